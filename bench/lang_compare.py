#!/usr/bin/env python3
"""One table of language identification accuracy, side by side, for bench/lang_compare.sh:
per gold language (Faroese, which samtale never learnt, as a row of its own; und: items
with no language, bench/lang_items.py), on whole sentences and on two-word snippets, the share each identifier got right; then how often
each takes bokmal for nynorsk and for Danish.

    bench/lang_compare.py ITEMS.tsv NAME=PREDICTIONS.txt ...

PREDICTIONS.txt has one code a line (nb nn sv da en other und), in the items' order."""
import sys

ROWS = ["nb", "nn", "sv", "da", "en", "other", "fo (unseen)", "und"]


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: lang_compare.py ITEMS.tsv NAME=PREDICTIONS ...")
    items = []
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            gold, kind, source, _ = line.rstrip("\n").split("\t", 3)
            row = "fo (unseen)" if source == "other-fo.txt" and gold == "other" else gold
            items.append((gold, kind, row))
    tools = []
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        with open(path, encoding="utf-8") as f:
            preds = [l.strip() for l in f]
        if len(preds) != len(items):
            sys.exit("%s: %d answers for %d items" % (name, len(preds), len(items)))
        tools.append((name, preds))
    for kind in ("sentence", "snippet"):
        print("\n%s accuracy (%% right)" % ("Sentences" if kind == "sentence" else "Two-word snippets"))
        print("%-12s %6s " % ("language", "items") + " ".join("%12s" % t for t, _ in tools))
        for row in ROWS:
            idx = [i for i, (g, k, r) in enumerate(items) if k == kind and r == row]
            if not idx:
                continue
            cells = []
            for _, preds in tools:
                right = sum(1 for i in idx if preds[i] == items[i][0])
                cells.append("%11.1f%%" % (100.0 * right / len(idx)))
            print("%-12s %6d " % (row, len(idx)) + " ".join(cells))
        idx = [i for i, (g, k, r) in enumerate(items) if k == kind and g == "nb"]
        for wrong in ("nn", "da"):
            cells = ["%11.1f%%" % (100.0 * sum(1 for i in idx if p[i] == wrong) / len(idx)) for _, p in tools]
            print("%-19s " % ("nb read as " + wrong) + " ".join(cells))
        for t, p in tools:
            good = sum(1 for i in range(len(items)) if items[i][1] == kind and p[i] == items[i][0])
            total = sum(1 for it in items if it[1] == kind)
            print("result tool=%s kind=%s accuracy=%.4f" % (t, kind, good / total))


if __name__ == "__main__":
    main()
