#!/usr/bin/env python3
"""The items bench/lang_compare.sh gives every language identifier: from DATA/langid/,
every tenth line of each file (line number % 10 == 0, the lines tools/train_lang.c holds
out and samtale never learnt from), whole and as a two-word snippet (words k and k+1,
k = line number % (words - 1), as train_lang measures them).

    bench/lang_items.py DATA_DIR > items.tsv

One item a line: gold label, kind (sentence or snippet), source file, text (tabs and
newlines never occur in the sources). other-fo is a language samtale never saw.

An item with fewer than 3 letters once links, @handles and everything but letters are
left out (a bare address, "11/10/2000 01:04 PM", "2.") is in no language: its gold label
is und, for every identifier alike, as docs/models.md defines und."""
import os
import re
import sys

# As src/text/lang.c leaves them out: http(s) links, www. words not after a letter, digit,
# '.', '/' or '@', and handles: an @ not after an ASCII letter or digit, up to whitespace.
LINK = re.compile(r"https?://\S*|(?<![A-Za-z0-9./@])www\.\S*|(?<![A-Za-z0-9])@\S*", re.IGNORECASE)


def gold_of(text, gold):
    letters = sum(1 for ch in LINK.sub(" ", text) if ch.isalpha())
    return gold if letters >= 3 else "und"

FILES = [("nb.txt", "nb"), ("nn.txt", "nn"), ("sv.txt", "sv"), ("da.txt", "da"), ("en.txt", "en"),
         ("other-de.txt", "other"), ("other-fi.txt", "other"), ("other-is.txt", "other"),
         ("other-nl.txt", "other"), ("other-fo.txt", "other")]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: lang_items.py DATA_DIR")
    out = sys.stdout
    for name, gold in FILES:
        number = 0
        with open(os.path.join(sys.argv[1], "langid", name), encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\r\n")
                if not line:
                    continue
                n, number = number, number + 1
                if n % 10:
                    continue
                text = line.replace("\t", " ")
                out.write("%s\tsentence\t%s\t%s\n" % (gold_of(text, gold), name, text))
                words = text.split()
                if len(words) >= 2:
                    k = n % (len(words) - 1)
                    snippet = " ".join(words[k:k + 2])
                    out.write("%s\tsnippet\t%s\t%s\n" % (gold_of(snippet, gold), name, snippet))


if __name__ == "__main__":
    main()
