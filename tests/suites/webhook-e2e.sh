#!/bin/sh
# webhook-e2e.sh - instant revocation and the other operations features, end
# to end: signed deliveries from the GitHub stand-in to `ghaccess serve`
# (a removal refused within 2 s, signature, replay and size refusals, the
# memory a flood of unsigned deliveries may take, replayed bodies, events
# of other organizations, downgrades applied without a sync, debouncing),
# ETag polling (base permission, owners), GitHub Enterprise paths and GitHub
# App mode (tests/e2e/test_webhook.py; /metrics is checked by
# metrics-format.sh).
#
# Environment: BUILD (directory holding ghaccess, default build), GHACCESS_SCENARIOS.
set -eu
. "$(dirname "$0")/e2e-env.sh"
exec python3 tests/e2e/test_webhook.py revocation_within_two_seconds \
	revocation_does_not_wait_for_the_sync team_membership_removal signatures replay \
	size_limit missing_headers without_a_secret_webhooks_are_off unsigned_flood_memory \
	slow_delivery_holds_the_budget_ten_seconds_at_most replayed_body_under_a_new_delivery_id \
	removal_does_not_outlive_the_sync_it_asks_for member_read_after_a_mistaken_removal \
	events_out_of_scope_are_ignored \
	downgrade_team_permission downgrade_collaborator_role downgrade_repository_archived \
	team_moved_to_another_parent events_and_debounce \
	etag_polling_sees_base_permission owner_change_polling enterprise_prefix app_mode_sync
