"""Text that XML 1.0 can carry: every XML writer (Open311's bodies, the .xlsx exports) passes user text
through `xml_safe`.

XML 1.0 allows only tab, line feed, carriage return, U+0020..U+D7FF, U+E000..U+FFFD and
U+10000..U+10FFFF; anything else (the other C0 controls such as a vertical tab, lone surrogates,
U+FFFE/U+FFFF) makes the whole document unreadable for every client, e.g. one vertical tab in one
description broke Open311's requests.xml for its 90-day window. They carry no meaning in a case's
text, so they are dropped rather than escaped (XML 1.0 has no escape for them either).
"""

from __future__ import annotations

import re

FORBIDDEN_IN_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 forbids."""
    return FORBIDDEN_IN_XML.sub("", text)
