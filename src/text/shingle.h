/*
 * shingle.h: near-duplicate signatures of texts and their similarity, for the
 * near-duplicate guard (PRODUCT.md P5, core/checks.c).
 *
 * Method. A text's signature is the set of its character 4-grams ("shingles"): the
 * comparison form of the text (text/normalise.h: links, punctuation, symbols and emoji
 * gone, NFKC, case folded, single spaces) with one space added at each end, cut into every
 * run of 4 consecutive code points, each run hashed to 32 bits; the set is kept sorted
 * and without repeats. A comparison form shorter than 4 code points with its spaces gives
 * one shingle, the whole padded form. Only the first TEXT_SIG_MAX_CHARS code points of the
 * comparison form are cut, so a signature holds at most that many shingles (4 bytes each).
 *
 * Similarity of two signatures is the Dice coefficient 2|A∩B| / (|A| + |B|): 1 for the
 * same comparison form, 0 for nothing in common. Character shingles (rather than words)
 * see "cut delivery times" inside "cut delivery times in half" and survive a changed
 * word ending, a typo or a reordered clause, and work for any script, with or without
 * spaces. Dice (rather than Jaccard) weighs a short text added to or removed from a post
 * as the small change a reader sees it as. The threshold that calls two texts
 * near-duplicates is the caller's (CHECKS_DUP_THRESHOLD); docs/checks.md has the examples.
 *
 * Two texts whose comparison forms are both empty (only links, emoji or punctuation) have
 * similarity 1 when the raw texts (their first TEXT_NORM_MAX_IN bytes) are the same bytes,
 * else 0: there are no words to compare.
 */
#ifndef SAM_TEXT_SHINGLE_H
#define SAM_TEXT_SHINGLE_H

#include <stddef.h>
#include <stdint.h>

#define TEXT_SIG_MAX_CHARS 2048 /* code points of the comparison form that are cut */
#define TEXT_SIG_BUCKETS 256    /* histogram of the hashes' top byte, for a quick bound */

struct text_sig {
    uint32_t *h;     /* sorted distinct shingle hashes; owned, NULL when n == 0 */
    size_t n;
    uint64_t form;   /* text_hash of the comparison form (0 when it is empty) */
    uint64_t raw;    /* text_hash of the raw text's first TEXT_NORM_MAX_IN bytes */
    size_t form_len; /* bytes in the comparison form */
    /* bucket[b]: hashes whose top byte is b. Two texts share at most the sum over b of
     * the smaller of their counts, which rules most unrelated pairs out in 256 steps.
     * bucket_ok is 0 when a count did not fit in a byte (then the bound is not used). */
    uint8_t bucket[TEXT_SIG_BUCKETS];
    int bucket_ok;
};

/* Builds the signature of s (NULL reads as ""). On success *sig owns its array and the
 * caller releases it with text_sig_cleanup. SAM_ENOMEM on allocation failure (then *sig
 * is empty and needs no cleanup, though cleanup is harmless). */
int text_sig_build(const char *s, struct text_sig *sig);

/* Like text_sig_build, through a bounded cache shared by every thread (4,096 texts):
 * the checks compare each new post with the same queue again and again, and building a
 * signature costs far more than copying one. Same contract as text_sig_build. */
int text_sig_build_cached(const char *s, struct text_sig *sig);

/* Frees the array of sig (NULL or an empty signature are fine) and empties it. */
void text_sig_cleanup(struct text_sig *sig);

/* Dice similarity of two signatures in [0, 1] (see the file comment for empty forms). */
double text_sig_similarity(const struct text_sig *a, const struct text_sig *b);

/* 1 when the similarity of a and b is at least threshold, writing it to *score, else 0
 * (and *score is left alone). Cheaper than text_sig_similarity for pairs far apart: it
 * stops as soon as the threshold is out of reach. */
int text_sig_at_least(const struct text_sig *a, const struct text_sig *b, double threshold,
                      double *score);

#endif
