"""dists.py - build small, valid Python distributions offline for the index tests.

No PyPI is reachable from the test machines, so the wheels and sdists that
pip, twine and poetry handle are written here with zipfile and tarfile:

    wheel(directory, "acme-core", "1.0.0", requires=["acme-tools>=1"])
    sdist(directory, "acme-core", "1.0.0")

A wheel has a correct WHEEL, METADATA and RECORD (pip checks RECORD when it
installs), an importable package, and Requires-Dist lines for its
dependencies.  An sdist is a PEP 625 {name}-{version}.tar.gz holding a
PKG-INFO and a pyproject.toml; the tests upload and download sdists but
never build them (that would need a build backend from the network).
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile


def escaped(name):
    """The name as wheel and PEP 625 sdist filenames write it."""
    return re.sub(r"[-_.]+", "_", name).lower()


def metadata(name, version, requires=(), requires_python=None, extra=(), body=None):
    """METADATA text: extra is more header lines, body the long description."""
    lines = ["Metadata-Version: 2.1", "Name: %s" % name, "Version: %s" % version,
             "Summary: test package %s" % name]
    if requires_python:
        lines.append("Requires-Python: %s" % requires_python)
    lines += ["Requires-Dist: %s" % requirement for requirement in requires]
    lines += list(extra)
    text = "\n".join(lines) + "\n"
    if body is not None:
        text += "\n" + body
    return text.encode("utf-8")


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\n" % (path, digest, len(data))


def wheel(directory, name, version, requires=(), requires_python=None, payload=b"",
          extra_metadata=(), body=None, metadata_text=None):
    """Write {escaped name}-{version}-py3-none-any.whl; return its path.

    payload: extra bytes stored in the package (to make a large file);
    extra_metadata, body: more METADATA header lines and a long description;
    metadata_text: the METADATA bytes themselves (for hostile wheels)."""
    module = escaped(name)
    dist_info = "%s-%s.dist-info" % (module, version)
    if metadata_text is None:
        metadata_text = metadata(name, version, requires, requires_python, extra_metadata, body)
    files = [
        ("%s/__init__.py" % module, ("NAME = %r\nVERSION = %r\n" % (name, version)).encode()),
        ("%s/METADATA" % dist_info, metadata_text),
        ("%s/WHEEL" % dist_info,
         b"Wheel-Version: 1.0\nGenerator: ghaccess-tests\nRoot-Is-Purelib: true\n"
         b"Tag: py3-none-any\n"),
    ]
    if payload:
        files.append(("%s/payload.bin" % module, payload))
    record = "".join(_record_line(path, data) for path, data in files)
    record += "%s/RECORD,,\n" % dist_info
    files.append(("%s/RECORD" % dist_info, record.encode()))
    path = os.path.join(directory, "%s-%s-py3-none-any.whl" % (module, version))
    # Large payloads are stored, not compressed, so the file has their size.
    compression = zipfile.ZIP_STORED if payload else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", compression) as archive:
        for member, data in files:
            archive.writestr(member, data)
    return path


def sdist(directory, name, version, requires=()):
    """Write {escaped name}-{version}.tar.gz (PEP 625); return its path."""
    base = "%s-%s" % (escaped(name), version)
    pyproject = ('[project]\nname = "%s"\nversion = "%s"\n' % (name, version)).encode()
    members = [("%s/PKG-INFO" % base, metadata(name, version, requires)),
               ("%s/pyproject.toml" % base, pyproject)]
    path = os.path.join(directory, base + ".tar.gz")
    with tarfile.open(path, "w:gz") as archive:
        for member, data in members:
            info = tarfile.TarInfo(member)
            info.size = len(data)
            info.mtime = 0
            archive.addfile(info, io.BytesIO(data))
    return path


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def multipart_upload_body(fields, filename, content, boundary="ghaccess-test-boundary"):
    """The legacy upload form as twine sends it: fields first, then content."""
    parts = []
    for key, value in fields:
        parts.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (
            boundary.encode(), key.encode(), value.encode()))
    head = b"".join(parts) + (
        b"--%s\r\nContent-Disposition: form-data; name=\"content\"; filename=\"%s\"\r\n"
        b"Content-Type: application/octet-stream\r\n\r\n" % (boundary.encode(), filename.encode()))
    tail = b"\r\n--%s--\r\n" % boundary.encode()
    return head, content, tail, "multipart/form-data; boundary=%s" % boundary
