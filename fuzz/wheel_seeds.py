#!/usr/bin/env python3
"""wheel_seeds.py - write the seed corpora of fuzz_wheel and fuzz_metadata.

fuzz/corpus/wheel/: small zips as fuzz_wheel reads them (the file of
acme_core-1.0-py3-none-any.whl): a good wheel deflated, stored and in
zip64, and the refusals (another
project's METADATA, a path out of the installation, two .dist-info
directories, no METADATA).  fuzz/corpus/metadata/: METADATA texts with
folded lines, CR LF, a body, repeated and missing fields.
fuzz/corpus/upload_form/wheel-*: whole upload forms (fuzz_upload_form's
records) carrying a real wheel, so that the fuzzer starts from uploads
that succeed.

    fuzz/wheel_seeds.py
"""

import io
import os
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WHEELS = os.path.join(ROOT, "fuzz", "corpus", "wheel")
TEXTS = os.path.join(ROOT, "fuzz", "corpus", "metadata")
FORMS = os.path.join(ROOT, "fuzz", "corpus", "upload_form")
# fuzz_upload_form.c's keys[] indexes.
KEYS = {":action": 0, "name": 2, "version": 3, "filetype": 4, "content": 8}
DIST_INFO = "acme_core-1.0.dist-info/"

METADATA = (b"Metadata-Version: 2.1\nName: acme-core\nVersion: 1.0\nSummary: s\n"
            b"Requires-Dist: acme-tools>=1\n\nbody\n")


def zipped(members, compression=zipfile.ZIP_DEFLATED, force_zip64=False):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members:
            if force_zip64:
                with archive.open(zipfile.ZipInfo(name), "w", force_zip64=True) as member:
                    member.write(data)
            else:
                archive.writestr(name, data)
    return out.getvalue()


def record(key, data, filename=None):
    """One part: [selector][length, 2 bytes little-endian][data]."""
    selector = KEYS[key] | (0x10 if filename else 0)
    if filename:
        data = filename.encode() + b";" + data
    return bytes([selector]) + len(data).to_bytes(2, "little") + data


def upload_form(wheel, version="1.0"):
    return (record(":action", b"file_upload") + record("name", b"acme-core") +
            record("version", version.encode()) + record("filetype", b"bdist_wheel") +
            record("content", wheel, "acme_core-%s-py3-none-any.whl" % version))


def main():
    os.makedirs(WHEELS, exist_ok=True)
    os.makedirs(TEXTS, exist_ok=True)
    good = [(DIST_INFO + "METADATA", METADATA), (DIST_INFO + "WHEEL", b"Wheel-Version: 1.0\n"),
            ("acme_core/__init__.py", b"")]
    seeds = {
        "good-deflated": zipped(good),
        "good-stored": zipped(good, zipfile.ZIP_STORED),
        "good-zip64": zipped(good, force_zip64=True),
        "other-project": zipped([(DIST_INFO + "METADATA", METADATA.replace(b"acme-core",
                                                                          b"acme-tools"))]),
        "escaping-member": zipped(good + [("../../evil.py", b"x")]),
        "two-dist-infos": zipped(good + [("other-1.0.dist-info/METADATA", METADATA)]),
        "no-metadata": zipped(good[1:]),
        "empty": zipped([]),
    }
    for name, data in seeds.items():
        with open(os.path.join(WHEELS, name), "wb") as file:
            file.write(data)
    texts = {
        "plain": METADATA,
        "folded-crlf": b"Name: a\r\nVersion: 1\r\nDescription: x\r\n        |y\r\n\r\nbody\r\n",
        "lone-cr": b"Name: a\rVersion: 1\rSummary: s\r\n\r\n",
        "no-body": b"Metadata-Version: 2.1\nName: a\nVersion: 1.0.post1.dev2+local",
        "repeated": b"Name: a\nName: b\nVersion: 1\n",
        "not-a-header": b"Name: a\nVersion: 1\nbody without separator\nX: y\n",
        "from-line": b"From nobody\n:x\n continuation\nName: a\nVersion: 1\n",
    }
    for name, data in texts.items():
        with open(os.path.join(TEXTS, name), "wb") as file:
            file.write(data)
    for name in ("good-deflated", "other-project"):
        with open(os.path.join(FORMS, "wheel-" + name), "wb") as file:
            file.write(upload_form(seeds[name]))


if __name__ == "__main__":
    main()
