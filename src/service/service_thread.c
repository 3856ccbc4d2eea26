/*
 * service_thread.c - what every thread of a source has: its lock, a
 * condition variable on the monotonic clock, a stop flag; see
 * service_pipeline.h.
 */
#include "service/service_pipeline.h"

#include <string.h>
#include <time.h>

void
service_thread_init(struct service_thread *thread)
{
	pthread_condattr_t attributes;

	memset(thread, 0, sizeof(*thread));
	pthread_mutex_init(&thread->lock, NULL);
	/* Timers must not jump with the wall clock. */
	pthread_condattr_init(&attributes);
	pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
	pthread_cond_init(&thread->wake, &attributes);
	pthread_condattr_destroy(&attributes);
}

void
service_thread_destroy(struct service_thread *thread)
{
	service_thread_stop(thread);
	pthread_cond_destroy(&thread->wake);
	pthread_mutex_destroy(&thread->lock);
}

enum ga_rc
service_thread_start(struct service_thread *thread, const char *name, void *(*main)(void *),
		     void *arg, struct ga_err *err)
{
	int error = pthread_create(&thread->thread, NULL, main, arg);

	if (error != 0)
		return ga_err_set(err, GA_EIO, "cannot start the %s thread: %s", name,
				  strerror(error));
	thread->started = true;
	return GA_OK;
}

void
service_thread_stop(struct service_thread *thread)
{
	if (!thread->started)
		return;
	pthread_mutex_lock(&thread->lock);
	thread->stopping = true;
	pthread_cond_signal(&thread->wake);
	pthread_mutex_unlock(&thread->lock);
	pthread_join(thread->thread, NULL);
	thread->started = false;
}

void
service_thread_wait_until(struct service_thread *thread, long long due_ms)
{
	struct timespec deadline = {
		.tv_sec = (time_t)(due_ms / 1000),
		.tv_nsec = (long)(due_ms % 1000) * 1000000,
	};

	pthread_cond_timedwait(&thread->wake, &thread->lock, &deadline);
}
