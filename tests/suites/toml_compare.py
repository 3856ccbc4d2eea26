#!/usr/bin/env python3
"""toml_compare.py - compare two toml-test tagged JSON documents structurally.

Usage: toml_compare.py EXPECTED.json ACTUAL.json
       toml_compare.py --batch LIST

Exits 0 when they are equal, 1 (with the first difference on stdout) when
they are not, 2 when a file cannot be read.  With --batch, LIST has one
"NAME<tab>EXPECTED<tab>ACTUAL" line per comparison (one Python start for a
whole suite); each difference is printed as "FAIL NAME: ..." and the exit
status is 1 when there is any.  Tagged scalars are
{"type": T, "value": V}; floats compare numerically (nan equals nan, -0 equals
0), integers as integers, date-times after normalising (upper case, T
separator, trailing zeros of the fraction dropped; offset date-times as
instants), everything else exactly.
"""

import datetime
import json
import math
import re
import sys
from decimal import Decimal

SCALAR_TYPES = {
    "string", "integer", "float", "bool",
    "datetime", "datetime-local", "date-local", "time-local",
}

DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})?"
    r"(?:[T ]?(?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<fraction>\.\d+)?)?"
    r"(?P<offset>Z|[+-]\d{2}:\d{2})?"
)


def is_tagged(node):
    return (isinstance(node, dict) and set(node) == {"type", "value"}
            and isinstance(node["type"], str) and isinstance(node["value"], str)
            and node["type"] in SCALAR_TYPES)


def parse_float(text):
    lowered = text.lower()
    if lowered in ("nan", "+nan", "-nan"):
        return math.nan
    if lowered in ("inf", "+inf"):
        return math.inf
    if lowered == "-inf":
        return -math.inf
    return float(text)


def normalise_datetime(kind, text):
    """A comparable form of a date-time value, or the text when unparsable."""
    match = DATETIME.fullmatch(text.upper())
    if match is None:
        return text
    date, time, fraction, offset = match.group("date", "time", "fraction", "offset")
    if time is not None and len(time) == 5:
        time += ":00"
    fraction = Decimal(fraction) if fraction else Decimal(0)
    if kind == "datetime" and date and time and offset:
        try:
            moment = datetime.datetime.fromisoformat(date + "T" + time + offset)
        except ValueError:  # a leap second, say: compare the parts
            return (date, time, fraction, offset)
        return (moment.astimezone(datetime.timezone.utc).replace(tzinfo=None), fraction)
    return (date, time, fraction, offset)


def scalars_equal(expected, actual):
    kind = expected["type"]
    if kind != actual["type"]:
        return False
    left, right = expected["value"], actual["value"]
    if kind == "float":
        a, b = parse_float(left), parse_float(right)
        return (math.isnan(a) and math.isnan(b)) or a == b
    if kind == "integer":
        return int(left) == int(right)
    if kind in ("datetime", "datetime-local", "date-local", "time-local"):
        return normalise_datetime(kind, left) == normalise_datetime(kind, right)
    return left == right


def difference(expected, actual, path="$"):
    """The first difference as a message, or None when equal."""
    if is_tagged(expected) or is_tagged(actual):
        if not (is_tagged(expected) and is_tagged(actual)):
            return f"{path}: expected {json.dumps(expected)}, got {json.dumps(actual)}"
        if not scalars_equal(expected, actual):
            return f"{path}: expected {json.dumps(expected)}, got {json.dumps(actual)}"
        return None
    if isinstance(expected, dict) and isinstance(actual, dict):
        if set(expected) != set(actual):
            missing = sorted(set(expected) - set(actual))
            extra = sorted(set(actual) - set(expected))
            return f"{path}: missing keys {missing}, unexpected keys {extra}"
        for key in expected:
            found = difference(expected[key], actual[key], f"{path}.{json.dumps(key)}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{path}: expected {len(expected)} elements, got {len(actual)}"
        for index, (left, right) in enumerate(zip(expected, actual)):
            found = difference(left, right, f"{path}[{index}]")
            if found:
                return found
        return None
    return f"{path}: expected {json.dumps(expected)}, got {json.dumps(actual)}"


def compare_files(expected_path, actual_path):
    """The first difference between two files, or None when equal."""
    try:
        with open(expected_path, encoding="utf-8") as handle:
            expected = json.load(handle)
        with open(actual_path, encoding="utf-8") as handle:
            actual = json.load(handle)
    except (OSError, ValueError) as error:
        return f"cannot read JSON: {error}"
    return difference(expected, actual)


def compare_batch(list_path):
    status = 0
    with open(list_path, encoding="utf-8") as handle:
        for line in handle:
            name, expected_path, actual_path = line.rstrip("\n").split("\t")
            found = compare_files(expected_path, actual_path)
            if found:
                print(f"FAIL {name}: {found}")
                status = 1
    return status


def main(argv):
    if len(argv) == 3 and argv[1] == "--batch":
        return compare_batch(argv[2])
    if len(argv) != 3:
        print("usage: toml_compare.py EXPECTED.json ACTUAL.json | --batch LIST",
              file=sys.stderr)
        return 2
    found = compare_files(argv[1], argv[2])
    if found:
        print(found)
        return 2 if found.startswith("cannot read JSON") else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
