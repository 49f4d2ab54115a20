"""The members named by one WhatsApp "added"/"removed" notice.

WhatsApp writes several members as one list in the phone's language, so a list
is split the way each language's list formatter builds it:

    Ann added Bob, Cid and Dan            en-GB      Ann added Bob, Cid, and Dan   en-US
    Ann hat Bob, Cid und Dan hinzugefügt   de         Ann a ajouté Bob, Cid et Dan  fr
    Ana añadió a Bob, Cid y Dan            es         Ana adicionou Bob, Cid e Dan  pt
    Иван добавил(-а) Bob, Cid и Dan        ru         Budi menambahkan B, C, dan D  id
    李雷 添加了 韩梅梅、王五和赵六        zh (no spaces around 和)
    Ann added Bob, Cid, Dan               old Android (commas only)

A name may itself hold a separator ("Smith, John", "Tom and Jerry", "王和平"), and
the text alone cannot tell. Two rules keep such names whole where it can be told:

* a run of pieces that together spell a name already seen in the file (an author,
  or a member of an earlier notice) stays one name;
* a Chinese conjunction written without spaces (和, 及, 與, 与) splits only the last
  piece (the formatter puts it before the last member) and only where both sides
  are at least two characters long, since Chinese names are: ``王和平`` stays one
  name, ``韩梅梅和王和平`` becomes ``韩梅梅`` and ``王和平``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: Commas (Latin, fullwidth, ideographic, Arabic) optionally followed by a
#: conjunction (Oxford comma, id "B, C, dan D"), or a conjunction between spaces.
_CONJ = r"(?:and|und|y|e|et|и|dan|和|與|与|及)"
_SEP = re.compile(rf"(\s*[,，、،]\s*(?:{_CONJ}\s+)?|\s+{_CONJ}\s+)")
_CJK_CONJ = "和及與与"
#: The widest run of pieces tried as one known name ("Smith, Jr., John" is three).
_MAX_RUN = 4

KnownName = Callable[[str], bool]


def _never(_: str) -> bool:
    return False


def split_members(raw: str, known: KnownName = _never) -> list[str]:
    """The member names in a notice's list part, in the order written."""
    text = raw.strip()
    if not text:
        return []
    if known(text):
        return [text]
    parts = _SEP.split(text)  # [name, sep, name, sep, …, name]
    names: list[str] = []
    count = (len(parts) + 1) // 2
    i = 0
    while i < count:
        j = _known_run(parts, i, count, known)
        names.append("".join(parts[2 * i : 2 * j + 1]).strip())
        i = j + 1
    names = [n for n in names if n]
    if names and not known(names[-1]):
        names[-1:] = _split_cjk_last(names[-1], known)
    return names


def _known_run(parts: list[str], i: int, count: int, known: KnownName) -> int:
    """Index of the last piece of the longest known name starting at piece ``i``."""
    for j in range(min(count - 1, i + _MAX_RUN - 1), i, -1):
        if known("".join(parts[2 * i : 2 * j + 1]).strip()):
            return j
    return i


def _split_cjk_last(name: str, known: KnownName) -> list[str]:
    """``李四和王五`` → two names; a name that merely contains 和 stays whole."""
    cuts = [k for k, ch in enumerate(name) if ch in _CJK_CONJ]
    best: tuple[int, int] | None = None  # (known sides, position)
    for k in cuts:
        left, right = name[:k].strip(), name[k + 1 :].strip()
        if len(left) < 2 or len(right) < 2:
            continue
        score = (known(left) + known(right), k)
        if best is None or score >= best:
            best = score
    if best is None:
        return [name]
    k = best[1]
    return [name[:k].strip(), name[k + 1 :].strip()]
