"""English plurals folded to their singular, so "bugs" and "bug" count as one term.

Chat keywords are mostly nouns, and a topic cloud that shows both "api" and
"apis" wastes space and splits the count. A full lemmatizer (NLTK, spaCy) is a
heavy dependency for this; a few suffix rules plus a list of words that only
look plural get the common cases right. Only plain lower-case ASCII words of
four letters or more are touched; everything else is returned as it is.
"""

from __future__ import annotations


def _words(block: str) -> frozenset[str]:
    """A whitespace-separated block of words as a set: long lists stay compact."""
    return frozenset(block.split())


#: Words that end in -s but are not plurals, or whose singular the rules get
#: wrong. Checked before any rule.
_KEEP = _words(
    """
    news series species means always perhaps sometimes whereas towards thanks
    windows kubernetes postgres redis pandas numpy analytics physics mathematics
    economics politics ethics graphics statistics linguistics athletics logistics
    lens bonus canvas atlas chaos corps diabetes mumps measles billiards
    status virus focus campus corpus census genius bus gas plus minus
    basis thesis analysis axis crisis oasis tennis chassis
    process access address class glass grass boss less loss miss pass mass
    express success business princess progress stress
    """
)

#: Plurals the suffix rules would fold wrongly.
_IRREGULAR = {
    "movies": "movie",
    "cookies": "cookie",
    "selfies": "selfie",
    "rookies": "rookie",
    "zombies": "zombie",
    "hoodies": "hoodie",
    "newbies": "newbie",
    "goodies": "goodie",
    "brownies": "brownie",
    "calories": "calorie",
    "caches": "cache",
    "niches": "niche",
    "headaches": "headache",
    "apis": "api",
    "kpis": "kpi",
    "gpus": "gpu",
    "cpus": "cpu",
    "tpus": "tpu",
    "people": "people",
    "children": "child",
    "men": "man",
    "women": "woman",
    "feet": "foot",
    "teeth": "tooth",
    "mice": "mouse",
}


def singular(word: str) -> str:
    """The singular of an English plural, or ``word`` unchanged.

    >>> [singular(w) for w in ["bugs", "libraries", "classes", "boxes", "status"]]
    ['bug', 'library', 'class', 'box', 'status']
    """
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) < 4 or not word.isascii() or not word.isalpha() or word in _KEEP:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("s"):
        return word[:-1]
    return word
