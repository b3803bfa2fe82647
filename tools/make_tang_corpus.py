"""Make assets/corpus/tang_poems.txt, the Chinese text of the text task, from a checkout of the
chinese-poetry collection (MIT licence; the Tang poems themselves are public domain).

    python tools/make_tang_corpus.py PATH/TO/chinese-poetry   # needs zhconv (only here, not at run time)

Steps: the poems of 全唐诗/poet.tang.{0,1000,...}.json in file order, each poem's lines joined into
one line; turned into simplified characters; the COMMON commonest characters of those poems kept as
the vocabulary, and every poem written with them alone kept, until TARGET characters.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

COMMON = 2500       # a vocabulary half the size of all the characters: a CPU learns twice as fast
TARGET = 190_000    # characters kept: about as many as a short run reads a few times
FILES = 12          # poet.tang.0.json ... poet.tang.11000.json: 12,000 poems to choose from
OUT = Path(__file__).resolve().parent.parent / "assets" / "corpus" / "tang_poems.txt"


def poems(checkout: Path) -> list[str]:
    out = []
    for k in range(FILES):
        for poem in json.loads((checkout / "全唐诗" / f"poet.tang.{k * 1000}.json").read_text(encoding="utf-8")):
            lines = poem.get("paragraphs") or []
            if lines and all(isinstance(line, str) and line.strip() for line in lines):
                out.append("".join(line.strip() for line in lines))
    return out


def main(checkout: str) -> int:
    import zhconv

    whole = zhconv.convert("\n".join(poems(Path(checkout))), "zh-cn").split("\n")
    common = {c for c, _ in Counter("".join(whole)).most_common(COMMON)}
    kept, size = [], 0
    for poem in whole:
        if set(poem) <= common and size < TARGET:
            kept.append(poem)
            size += len(poem) + 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(kept) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(kept):,} poems, {size:,} characters, {len(set(''.join(kept))):,} distinct")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
