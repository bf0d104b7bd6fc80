"""The service-item classifier: what a citizen says → the catalogue item, with
probabilities and the words that weighed most.

scikit-learn, three kinds of features side by side (a ``FeatureUnion``), each TF-IDF:

- **words**: jieba's segmentation, its dictionary extended with the catalogue's keywords
  (so "水表不准" stays one word), and pairs of neighbouring words;
- **character 1–3-grams**: they survive typos, homophones and words jieba cuts badly
  ("燃汽", "暧气", "冲钱"), which spoken Chinese is full of;
- **concepts**: a small thesaurus (``config/suggest/concepts.json``) maps many ways of
  saying a thing onto one concept (煤气, 天然气, 燃汽 → gas; 过户, 户头, 换成俺的 → transfer),
  with every pair of concepts found as a feature of its own. Most items are a pair
  (gas × transfer is 燃气更名过户), which a linear model cannot make from single words,
  and pooling the ways of saying a concept lets the few lines of one item teach the
  others. The channel (voice, SMS, web) is a feature here too: written and spoken
  reports read differently.

A multinomial logistic regression turns them into probabilities that are calibrated
by construction (its loss is the log-likelihood), so "60 %" means about six right in
ten, which is what the console's "not sure" needs; a linear SVM was a point or two less
accurate on the corpus and needs a calibration fold per item, which a new item with a
handful of lines does not have.

The dialled hotline is not a word among others (one token in a sentence weighs
little): its likelihood given the item, P(hotline | item), counted from the training
data with a prior from the catalogue (96111 reaches water and billing, 96556 gas and
heating, 12319 everything), multiplies the text's probabilities (Bayes' rule, taking
the hotline independent of the wording given the item).

The catalogue's own words are training lines too (each item's name and each keyword,
labelled with the item), so an item with no data yet is suggested from its keywords.
"""

from __future__ import annotations

import io
import itertools
import logging
import pickle
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jieba
import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from hotline.reference.reach import reaches

jieba.setLogLevel(logging.WARNING)

# A user-dictionary frequency high enough that jieba keeps a keyword whole.
KEYWORD_FREQ = 100_000
# The weights below were chosen by 5-fold cross-validation on the 1,820-line corpus and
# checked on 3,145 lines
# (bench/suggest.py; docs/suggest.md has the grid): each is within a point of its
# neighbours, so they are not worth retuning for a few more lines.
# Inverse regularisation strength of the logistic regression (10: -0.7 points top-1, 100: -0.5).
C = 30.0
# The concepts speak for whole families of words: at 0.3 of the others' weight they help
# most (+2.3 points top-1 over none; at 0.8 they drown the words that tell items apart).
CONCEPT_WEIGHT = 0.3
# An item outside a hotline's reach (hotline/reference/reach.py) gets this share of the
# prior when the data has not spoken (a water hotline can still take a gas question,
# rarely).
OUT_OF_REACH = 0.1
# Pseudo-counts of the catalogue's prior in P(hotline | item) (2: -0.7 points top-1).
PRIOR_COUNTS = 8.0
# Character n-grams from one to three: longer ones add little beyond jieba's words.
CHAR_NGRAMS = (1, 3)
# Features seen in fewer lines than this are left out: a word or n-gram of one sentence
# teaches nothing about the next, and the model is a third the size and fits faster.
MIN_DF = 2
# A catalogue keyword as a training line weighs as much as a citizen's sentence.
KEYWORD_WEIGHT = 1.0

# Words that may well weigh (how people talk on one hotline more than another) but tell
# the agent nothing about why an item was suggested: never shown as a reason.
FILLERS = frozenset(
    """那个 这个 那些 这些 那边 这边 那里 这里 哪里 我家 俺家 咱家 家里 我们 你们 恁们 他们
    咱们 俺们 人家 一下 一个 一直 就是 还是 什么 怎么 现在 今天 昨天 前天 明天 两天 几天 这两天
    已经 时候 东西 事情 问题 麻烦 您好 你好 喂喂 然后 结果 但是 可是 而且 所以 因为 这样 那样
    一点 有点 好像 感觉 觉得 说是 知道 没有 不是 可以 需要 能不能""".split()  # noqa: SIM905 (a word list reads better as words)
)

Document = tuple[str, str | None]  # (text, channel)


@dataclass(frozen=True)
class Example:
    """One labelled description."""

    text: str
    item: str
    hotline: str | None = None
    channel: str | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class CatalogueItem:
    code: str
    domain: str | None
    name_zh: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Guess:
    item: str
    probability: float
    words: list[str]


def _text(document: Document) -> str:
    return document[0]


class Words:
    """jieba's words, the catalogue's keywords kept whole. Pickled without its
    tokenizer (a large dictionary), which is rebuilt on first use after loading."""

    def __init__(self, keywords: Iterable[str]) -> None:
        self.keywords = tuple(sorted({k for k in keywords if k.strip()}))
        self._tokenizer: jieba.Tokenizer | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"keywords": self.keywords}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["keywords"])  # type: ignore[misc]

    def tokenizer(self) -> jieba.Tokenizer:
        with self._lock:
            if self._tokenizer is None:
                tokenizer = jieba.Tokenizer()
                for word in self.keywords:
                    tokenizer.add_word(word, freq=KEYWORD_FREQ)
                tokenizer.initialize()
                self._tokenizer = tokenizer
            return self._tokenizer

    def __call__(self, document: Document) -> list[str]:
        """The words (with the shorter words inside long ones, as a search engine cuts
        them) and each pair of neighbouring words: "报停_以后" and "想_恢复" say which way
        a request goes where the single words do not."""
        tokenizer = self.tokenizer()
        words = [w for w in tokenizer.lcut_for_search(document[0]) if w.strip()]
        plain = [w for w in tokenizer.lcut(document[0]) if w.strip()]
        return words + [f"{a}_{b}" for a, b in itertools.pairwise(plain)]


class Concepts:
    """The thesaurus's concepts a text mentions, their pairs, and the channel."""

    def __init__(self, concepts: Mapping[str, Sequence[str]]) -> None:
        self.concepts = {name: tuple(words) for name, words in sorted(concepts.items())}

    def found(self, text: str) -> dict[str, str]:
        """Each concept the text mentions → the first of its words found there."""
        lowered = text.lower()
        found = {}
        for name, words in self.concepts.items():
            word = next((w for w in words if w.lower() in lowered), None)
            if word is not None:
                found[name] = word
        return found

    def __call__(self, document: Document) -> list[str]:
        names = sorted(self.found(document[0]))
        features = [*names, *(f"{a}&{b}" for a, b in itertools.combinations(names, 2))]
        if document[1]:
            features.append(f"#{document[1]}")
        return features


@dataclass
class Classifier:
    """A fitted model: the pipeline, P(hotline | item), and the analyzers it needs to
    say which words weighed."""

    pipeline: Pipeline
    items: list[str]
    hotline_likelihood: dict[str, dict[str, float]]
    feature_names: np.ndarray[Any, Any] = field(repr=False)

    # ------------------------------------------------------------------ fitting

    @classmethod
    def fit(
        cls,
        examples: Sequence[Example],
        catalogue: Sequence[CatalogueItem],
        hotline_domains: Mapping[str, str | None],
        concepts: Mapping[str, Sequence[str]],
    ) -> Classifier:
        known = {item.code for item in catalogue}
        lines = [e for e in examples if e.item in known] + [
            Example(word, item.code, weight=KEYWORD_WEIGHT)
            for item in catalogue
            for word in (item.name_zh, *item.keywords)
            if word.strip()
        ]
        words = Words(k for item in catalogue for k in item.keywords)
        features = FeatureUnion(
            [
                ("w", TfidfVectorizer(analyzer=words, sublinear_tf=True, min_df=MIN_DF)),
                (
                    "c",
                    TfidfVectorizer(
                        analyzer="char",
                        ngram_range=CHAR_NGRAMS,
                        preprocessor=_text,
                        sublinear_tf=True,
                        lowercase=False,
                        min_df=MIN_DF,
                    ),
                ),
                ("k", TfidfVectorizer(analyzer=Concepts(concepts), sublinear_tf=True)),
            ],
            transformer_weights={"w": 1.0, "c": 1.0, "k": CONCEPT_WEIGHT},
        )
        pipeline = Pipeline(
            [("features", features), ("model", LogisticRegression(C=C, max_iter=5000))]
        )
        pipeline.fit(
            [(e.text, e.channel) for e in lines],
            [e.item for e in lines],
            model__sample_weight=np.array([e.weight for e in lines]),
        )
        return cls(
            pipeline=pipeline,
            items=[str(c) for c in pipeline.classes_],
            hotline_likelihood=_hotline_likelihood(lines, catalogue, hotline_domains),
            feature_names=features.get_feature_names_out(),
        )

    # ------------------------------------------------------------------ answering

    def probabilities(
        self, text: str, hotline: str | None, channel: str | None, active: set[str] | None = None
    ) -> dict[str, float]:
        """P(item | text, hotline) for every item the model knows (only ``active`` ones,
        renormalised, when given)."""
        return self._combine(self._text_p(self._row(text, channel)), hotline, active)

    def _row(self, text: str, channel: str | None) -> Any:
        features: FeatureUnion = self.pipeline.named_steps["features"]
        # One sentence of our own making: scikit-learn's checks of its input and
        # parameters cost more than the features themselves.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            return features.transform([(text, channel)]).tocsr()

    def _text_p(self, rows: Any) -> np.ndarray[Any, Any]:
        model: LogisticRegression = self.pipeline.named_steps["model"]
        probabilities: np.ndarray[Any, Any] = model.predict_proba(rows)[0]
        return probabilities

    def _combine(
        self, text_p: np.ndarray[Any, Any], hotline: str | None, active: set[str] | None
    ) -> dict[str, float]:
        likelihood = self.hotline_likelihood.get(hotline or "", {})
        scores = {
            item: float(p) * likelihood.get(item, 1.0)
            for item, p in zip(self.items, text_p, strict=True)
            if active is None or item in active
        }
        total = sum(scores.values())
        if total <= 0:
            return {}
        return {item: score / total for item, score in scores.items()}

    def guess(
        self,
        text: str,
        hotline: str | None,
        channel: str | None,
        *,
        active: set[str] | None = None,
        limit: int = 3,
        words: int = 4,
    ) -> list[Guess]:
        """The ``limit`` likeliest items, best first, each with the words of ``text``
        that pushed the model towards it most."""
        row = self._row(text, channel)
        probabilities = self._combine(self._text_p(row), hotline, active)
        best = sorted(probabilities.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        features: FeatureUnion = self.pipeline.named_steps["features"]
        analyzers = dict(features.transformer_list)
        concepts = analyzers["k"].analyzer.found(text)
        text_words = set(analyzers["w"].analyzer((text, channel)))
        return [
            Guess(item, p, self._weighing_words(row, text, concepts, text_words, item, words))
            for item, p in best
        ]

    def _weighing_words(
        self,
        row: Any,
        text: str,
        concepts: Mapping[str, str],
        text_words: set[str],
        item: str,
        limit: int,
    ) -> list[str]:
        """The words of ``text`` whose features add most to ``item``'s score over an
        average item's: what the agent reads as "why"."""
        model: LogisticRegression = self.pipeline.named_steps["model"]
        # Only the text's own features: the whole matrix's mean is most of a suggestion's time.
        coef = model.coef_[:, row.indices]
        contributions = row.data * (coef[self.items.index(item)] - coef.mean(axis=0))
        chosen: list[str] = []
        for index in np.argsort(-contributions):
            if contributions[index] <= 0 or len(chosen) >= limit * 3:
                break
            feature = str(self.feature_names[row.indices[index]])
            chosen.extend(_words_of(feature, concepts, text_words))
        return _distinct(chosen, text)[:limit]

    # ------------------------------------------------------------------ storing

    def to_bytes(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> Classifier:
        """A model this system pickled (the blobs come from our own database, never
        from outside: unpickling runs code)."""
        model = pickle.Unpickler(io.BytesIO(data)).load()
        if not isinstance(model, cls):
            raise TypeError("not a pickled classifier")
        return model

    def warm(self) -> None:
        """Build the tokenizer now rather than on the first suggestion (about a second)."""
        self.probabilities("水", None, None)


def _hotline_likelihood(
    lines: Sequence[Example],
    catalogue: Sequence[CatalogueItem],
    hotline_domains: Mapping[str, str | None],
) -> dict[str, dict[str, float]]:
    """P(hotline | item): weighted counts of the training lines, plus ``PRIOR_COUNTS``
    spread over the hotlines by the catalogue's reach."""
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for line in lines:
        if line.hotline is not None:
            counts[line.item][line.hotline] += line.weight
    hotlines = sorted(set(hotline_domains) | {h for c in counts.values() for h in c})
    likelihood: dict[str, dict[str, float]] = {h: {} for h in hotlines}
    for item in catalogue:
        reach = {h: _reach(hotline_domains.get(h), item.domain) for h in hotlines}
        total = sum(counts[item.code].values()) + PRIOR_COUNTS * sum(reach.values())
        for hotline in hotlines:
            likelihood[hotline][item.code] = (
                counts[item.code][hotline] + PRIOR_COUNTS * reach[hotline]
            ) / total
    return likelihood


def _reach(hotline_domain: str | None, item_domain: str | None) -> float:
    return 1.0 if reaches(hotline_domain, item_domain) else OUT_OF_REACH


def _words_of(feature: str, concepts: Mapping[str, str], text_words: set[str]) -> list[str]:
    """The words a feature stands for, as a person reads them: a concept (or a pair of
    them) as the words of the text that named it; a character n-gram only when it is a
    word of the text (not "里还是"); never a single character or punctuation."""
    kind, _, name = feature.partition("__")
    if kind == "k":
        return [concepts[c] for c in name.split("&") if c in concepts]
    word = name.strip()
    if len(word) < 2 or not all(ch.isalnum() for ch in word) or word in FILLERS:
        return []
    return [word] if kind == "w" or word in text_words else []


def _distinct(words: Sequence[str], text: str) -> list[str]:
    """The words, each once, longest first where one contains another, in the order of
    the text."""
    kept: list[str] = []
    for word in sorted(dict.fromkeys(words), key=len, reverse=True):
        if word in text and not any(word in longer for longer in kept):
            kept.append(word)
    return sorted(kept, key=text.find)


@dataclass(frozen=True)
class Figures:
    """How a model does on labelled lines it did not learn from."""

    lines: int
    top1: float
    top3: float
    per_item: dict[str, dict[str, float]]
    confusions: list[tuple[str, str, int]]

    def as_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "top1": self.top1,
            "top3": self.top3,
            "per_item": self.per_item,
            "confusions": [list(c) for c in self.confusions],
        }


def evaluate(model: Classifier, examples: Sequence[Example], confusions: int = 10) -> Figures:
    """Top-1 and top-3 accuracy over ``examples`` (overall and by item) and the most
    frequent (true item, first suggestion) pairs that were wrong."""
    if not examples:
        return Figures(0, 0.0, 0.0, {}, [])
    texts = model.pipeline.predict_proba([(e.text, e.channel) for e in examples])
    hits: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    wrong: Counter[tuple[str, str]] = Counter()
    for example, text_p in zip(examples, texts, strict=True):
        ranked = sorted(
            model._combine(text_p, example.hotline, None).items(), key=lambda kv: -kv[1]
        )
        top = [item for item, _ in ranked[:3]]
        hits[example.item].append((top[:1] == [example.item], example.item in top))
        if top and top[0] != example.item:
            wrong[(example.item, top[0])] += 1
    everything = [h for item_hits in hits.values() for h in item_hits]
    return Figures(
        lines=len(everything),
        top1=_share(h[0] for h in everything),
        top3=_share(h[1] for h in everything),
        per_item={
            item: {
                "lines": len(item_hits),
                "top1": _share(h[0] for h in item_hits),
                "top3": _share(h[1] for h in item_hits),
            }
            for item, item_hits in sorted(hits.items())
        },
        confusions=[(a, b, n) for (a, b), n in wrong.most_common(confusions)],
    )


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0
