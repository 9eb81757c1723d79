#!/usr/bin/env python3
"""The reference sentiment classifier of L3 (issue goals, docs/models.md): a logistic
regression trained in-domain on the same training data samtale's model learns from, with
TF-IDF word (1-2) and character (2-5, within word boundaries) n-grams (scikit-learn, from
Debian's python3-sklearn), measured on the same held-out items, per language.

    bench/sentiment_ref.py [DATA_DIR]            (default ../shared/data)

Splits (samtale's trainer uses the same ones):
  nb  NoReC sentences (no-norec-sentence-3class): train -> dev, 3 classes
  sv  Swedish reviews (sv-reviews-train.csv, positive/negative): every tenth row (row
      number % 10 == 0) held out, 2 classes; and, out of domain, the Swedish social
      comments (sv-social-comments-dev.csv, evaluation only, 3 classes) with the same model
  da  the LCC sentences with a valence (da-lcc-*.csv; < 0 negative, 0 neutral, > 0
      positive): every fifth labelled row held out, 3 classes
  en  SemEval tweets (en-semeval-train-*) -> TweetEval validation (en-tweeteval-val-*),
      3 classes

Reported per set: accuracy, macro-F1, Matthews correlation (MCC), negative-class F1, macro
recall (TweetEval's measure), and the classifier's speed on one core (texts per second,
features included). The last lines are for scripts:
    result set=nb acc=0.713 macro_f1=0.650 mcc=0.457 neg_f1=0.612 macro_recall=0.640 per_s=41000
"""
import csv
import json
import os
import sys
import time

try:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef, recall_score
    from sklearn.pipeline import FeatureUnion, make_pipeline
except ImportError:
    sys.exit("sentiment_ref: needs scikit-learn (Debian: apt-get install python3-sklearn)")

LABELS = {"positive": "pos", "negative": "neg", "neutral": "neu", "pos": "pos", "neg": "neg", "neu": "neu",
          "Positive": "pos", "Negative": "neg", "Neutral": "neu", "0": "neg", "1": "neu", "2": "pos"}


def read_norec(path):
    with open(path, encoding="utf-8") as f:
        return [(d["text"], LABELS[d["label"]]) for d in json.load(f)]


def read_csv(path, text="text", label="label"):
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        return [(r[text], LABELS[r[label].strip()]) for r in csv.DictReader(f) if r.get(label, "").strip() in LABELS]


def read_lines(text_path, label_path):
    with open(text_path, encoding="utf-8") as t, open(label_path, encoding="utf-8") as l:
        return [(a.rstrip("\n"), LABELS[b.strip()]) for a, b in zip(t, l)]


def read_lcc(paths):
    rows = []
    for p in paths:
        with open(p, encoding="utf-8", newline="") as f:
            for r in csv.reader(f):
                if len(r) < 3 or not r[1].strip().lstrip("-").isdigit():
                    continue
                v = int(r[1])
                rows.append((r[2], "neg" if v < 0 else "pos" if v > 0 else "neu"))
    return rows


def model():
    feats = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
    ])
    return make_pipeline(feats, LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced"))


def measure(name, clf, items):
    texts = [t for t, _ in items]
    gold = [g for _, g in items]
    t0 = time.process_time()
    pred = list(clf.predict(texts))
    secs = max(time.process_time() - t0, 1e-9)
    neg = f1_score(gold, pred, labels=["neg"], average="macro", zero_division=0)
    r = {"acc": accuracy_score(gold, pred), "macro_f1": f1_score(gold, pred, average="macro", zero_division=0),
         "mcc": matthews_corrcoef(gold, pred), "neg_f1": neg,
         "macro_recall": recall_score(gold, pred, average="macro", zero_division=0), "per_s": len(texts) / secs}
    print("%-16s %6d %7.3f %8.3f %6.3f %7.3f %12.3f %9.0f" % (name, len(items), r["acc"], r["macro_f1"], r["mcc"],
                                                             r["neg_f1"], r["macro_recall"], r["per_s"]))
    return r


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    data = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SAMTALE_DATA_DIR",
                                                                 os.path.join(here, "..", "..", "shared", "data"))
    s = os.path.join(data, "sentiment")
    sets = []
    norec_train = read_norec(os.path.join(s, "no-norec-sentence-3class-train.json"))
    norec_dev = read_norec(os.path.join(s, "no-norec-sentence-3class-dev.json"))
    sets.append(("nb (NoReC)", norec_train, [norec_dev]))
    sv = read_csv(os.path.join(s, "sv-reviews-train.csv"))
    sv_social = read_csv(os.path.join(s, "sv-social-comments-dev.csv"))
    sets.append(("sv (reviews)", [x for i, x in enumerate(sv) if i % 10], [[x for i, x in enumerate(sv) if i % 10 == 0],
                                                                         sv_social]))
    da = read_lcc([os.path.join(s, "da-lcc-mixed-2014.csv"), os.path.join(s, "da-lcc-newscrawl-2011.csv")])
    sets.append(("da (LCC)", [x for i, x in enumerate(da) if i % 5], [[x for i, x in enumerate(da) if i % 5 == 0]]))
    en_train = read_lines(os.path.join(s, "en-semeval-train-text.txt"), os.path.join(s, "en-semeval-train-labels.txt"))
    en_val = read_lines(os.path.join(s, "en-tweeteval-val-text.txt"), os.path.join(s, "en-tweeteval-val-labels.txt"))
    sets.append(("en (TweetEval)", en_train, [en_val]))

    print("%-16s %6s %7s %8s %6s %7s %12s %9s" % ("set", "items", "acc", "macro-F1", "MCC", "neg-F1", "macro-recall",
                                                   "texts/s"))
    results = []
    for name, train, evals in sets:
        clf = model().fit([t for t, _ in train], [g for _, g in train])
        for k, items in enumerate(evals):
            label = name if k == 0 else "sv (social, ood)"
            results.append((label, measure(label, clf, items)))
    for label, r in results:
        print("result set=%s %s" % (label.split()[0] + ("-social" if "social" in label else ""),
                                    " ".join("%s=%.4f" % (k, v) for k, v in r.items())))


if __name__ == "__main__":
    main()
