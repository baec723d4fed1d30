"""libical's restriction check (Debian's gir1.2-ical-3.0 with python3-gi), run in the system
Python because the bindings are not on PyPI. Catches missing required properties and
iTIP method rules that lenient Python parsers accept."""

from __future__ import annotations

import json
import os
import subprocess

from tests.support.environment import need

SYSTEM_PYTHON = "/usr/bin/python3"
CHECK = r"""
import json, sys
import gi
gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib
text = sys.stdin.read()
component = ICalGLib.Component.new_from_string(text)
if component is None:
    print(json.dumps(["unparseable"])); sys.exit(0)
ICalGLib.restriction_check(component)
errors = []
def walk(comp):
    prop = comp.get_first_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    while prop is not None:
        errors.append(prop.get_xlicerror())
        prop = comp.get_next_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    child = comp.get_first_component(ICalGLib.ComponentKind.ANY_COMPONENT)
    while child is not None:
        walk(child)
        child = comp.get_next_component(ICalGLib.ComponentKind.ANY_COMPONENT)
walk(component)
print(json.dumps(errors))
"""


def available() -> bool:
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    probe = subprocess.run(
        [
            SYSTEM_PYTHON,
            "-c",
            "import gi; gi.require_version('ICalGLib', '3.0'); from gi.repository import ICalGLib",
        ],
        capture_output=True,
        timeout=30,
    )
    return probe.returncode == 0


def restriction_errors(text: str) -> list[str]:
    """libical's complaints about a VCALENDAR (empty when it conforms)."""
    need(
        available(),
        f"libical's Python bindings are not importable by {SYSTEM_PYTHON}",
        "apt-get install -y gir1.2-ical-3.0 python3-gi",
    )
    result = subprocess.run(
        [SYSTEM_PYTHON, "-c", CHECK], input=text, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
