"""Train the stance model: relatedness gate on similarity features, then a fine-tuned (claim, evidence) classifier."""
from __future__ import annotations

import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from model.article import read_articles
from model.backends import fast_encoder
from model.encoder import EncoderConfig, SentenceEncoder
from model.errors import InputError
from model.lm_pairs import LMPairConfig, LMPairReader
from model.pair_classifier import PairClassifier
from model.relatedness import RelatednessGate, relatedness_features
from model.resolve import BASE_ENCODER
from model.stance import ArticleView, EvidenceSettings, StanceModel, classifier_pairs, pick_evidence
from model.stance_stacker import DISAGREE_SPLITS
from training.data.stance_data import StanceData, label_spread, split_by_body, split_by_story, story_ids
from training import distributed
from training.loop import PRECISIONS, LoopConfig, config_dict, train_loop
from training.metrics import classification_report, fnc_score
from training.options import check_at_least, check_share


GATE_OBJECTIVES = ("fnc", "macro_f1")


@dataclass
class StanceTrainConfig:
    """What the stance trainer builds.

    base_model: sentence encoder that selects the evidence and feeds the relatedness gate, and the encoder the pair
        classifier fine-tunes unless pair_model names another (model package, folder or hub id).
    pair_model: encoder the pair classifier fine-tunes instead of base_model (empty: base_model), e.g.
        all-mpnet-base-v2, 12 layers of 768 where MiniLM has 6 of 384; the sentence encoder stays base_model.
    lora_rank: 0 fine-tunes the pair classifier's encoder itself; more trains low-rank adapters of this rank on its
        linear layers (and its layer norms) with the encoder frozen, so the saved model holds a few MB, not the encoder.
    lora_alpha: adapter scale numerator (the update is multiplied by lora_alpha / lora_rank).
    dev_precision: how the pair classifier reads dev (each evaluation, offsets, stacker, threshold): 'fp32', or
        'bf16', a bfloat16 copy as the bf16 backend runs it, several times faster for a large pair_model on a CPU
        with native bfloat16.
    unrelated_label: label the relatedness gate decides; empty string for label sets without one.
    max_length: tokens of (claim, evidence) read by the pair classifier.
    dev_fraction: share of bodies held out (by body) for dev metrics, model selection and threshold tuning.
    class_weight_power: class weights are (largest class / class count) ** power (0 turns weighting off).
    max_train_samples: cap on training pairs for quick runs (None: all).
    tune_offsets: tune per-class logit offsets on dev for macro-F1 after training.
    dev_split: 'story' (no claim and no body on both sides) or 'body' (no body on both sides).
    extra_train: more training pairs (a folder in FNC-1 layout such as ../shared/data/arc, or a table); they join
        the training side only, never dev. Empty: none.
    own_headlines: add this many news articles paired with their own headline as agree, the product's default claim
        (training/data/stance_own_headlines.py); training side only, never dev. 0: none.
    contradictions: add this many news articles paired with a claim they contradict as disagree
        (training/data/stance_contradictions.py: claims written for the BBC News Summary training split); training
        side only, never dev. 0: none.
    stack_news: hold this many BBC News Summary training articles (ones with a contradicting claim) out of the
        own-headline and contradiction training pairs, and fit the stacker on their pairs (own headline, agree;
        contradicting claim, disagree) beside the dev pairs, so it learns from news pairs the pair classifier
        never trained on. The stacker's C and offsets, the threshold and dev metrics still read dev only. Needs
        stack. 0: none.
    stack_news_weight: the weight of each of those pairs in the stacker's fit (a dev pair weighs 1).
    stack_disagree_inputs: the stacker also reads the pair classifier's disagree split by whether refuting words
        fire (model.stance_stacker.stack_features). Needs stack and a disagree label.
    stack_disagree_split: where the split disagree inputs look for refuting words: 'article' (the rates in body and evidence, as
        in the shipped model; one such word in a long article then reads almost like certain disagree) or 'evidence'
        (whether the evidence sentences hold one; EXPERIMENTS.md, session 33).
    own_headline_data: where they (and the contradicted articles) come from: a BBC News Summary style JSONL (title on the article's first line), of
        which only the training split (the summary model's) is read; default: bbc_news_summary in the data folder.
    init: start from the base encoder ('base'), the shipped stance weights ('shipped') or a stance model folder;
        several comma-separated folders start from their average (a model soup, for runs on one dev split).
    stack: fit the linear stacker (pair classifier output + relatedness + lexical cues) on dev after training.
    attention_dropout: dropout on attention weights while fine-tuning (None: the base model's own, 0.1 for
        MiniLM); 0 lets the fused attention kernel run, about 1.5x faster per step on this CPU.
    frozen_layers: how many of the encoder's lowest transformer layers stay as pretrained while fine-tuning (like the
        embeddings, which always do); they are not saved either. 3 of MiniLM's 6 makes a step about 1.6x faster.
        With lora_rank, the adapters go on the layers above them only.
    cache_frozen: run the frozen layers once per pair and replay their output at every step and dev evaluation
        (training.pair_cache): with 6 of all-mpnet-base-v2's 12 layers frozen, a step about twice as fast, for about
        5 GB of memory on FNC-1. Needs frozen_layers.
    refit_only: take the pair classifier from --stance-init as it is (no training steps) and refit the gate, offsets,
        stacker and threshold on this run's split.
    split_seed: seed of the dev split (None: the loop seed). Runs that differ only in their training seed keep
        one dev split this way, so their weights can be averaged (--stance-init A,B) and refitted on clean dev.
    counterfactual: add training pairs whose claim is wrapped in a refutation ("It is not true that ..."), with
        agree and disagree swapped; each of agree, disagree and discuss gets this many times the smallest of their
        counts (0: none). Training side only, never dev.
    mirror: the model also reads each related pair with its claim refuted and the stacker weighs both views
        (model.stance.StanceModel.mirror); twice the pair-classifier work at prediction, none in training steps.
    lm_probe: a frozen language model also reads each related (claim, evidence) pair (model.lm_pairs); a linear
        probe over its vectors, fitted on the training pairs, gives the stacker a second opinion. Needs stack.
    lm: which language model and layer the probe reads, and the probe's regularisation ([stance.lm] in a config).
    stack_folds: how the stacker's cross-validation groups dev pairs: 'claim' or 'story' (no claim and no body
        shared between folds; falls back to claim when dev holds fewer than 5 stories).
    claim_bias: weight of a claim-only model's log-probabilities added to the logits in the training loss only
        (a product of experts, training/stance_debias.py), so the classifier learns what the body adds to the
        claim; 0 turns it off, 1 is the plain product. Checkpoints are then compared after tuning the offsets,
        since the classifier's own logits leave out the class prior.
    gate_objective: what the gate's threshold maximises on dev: 'fnc' (the FNC-1 score, which punishes a missed
        related pair four times as hard as a passed unrelated one) or 'macro_f1' (macro-F1 over all labels).
    """

    base_model: str = BASE_ENCODER
    pair_model: str = ""
    lora_rank: int = 0
    lora_alpha: float = 16.0
    dev_precision: str = "fp32"
    unrelated_label: str = "unrelated"
    max_length: int = 128
    dev_fraction: float = 0.1
    class_weight_power: float = 0.5
    max_train_samples: int | None = None
    tune_offsets: bool = True
    dev_split: str = "story"
    extra_train: str = ""
    own_headlines: int = 0
    contradictions: int = 0
    stack_news: int = 0
    stack_news_weight: float = 1.0
    stack_disagree_inputs: bool = False
    stack_disagree_split: str = "article"
    own_headline_data: str = ""
    init: str = "base"
    stack: bool = True
    refit_only: bool = False
    attention_dropout: float | None = None
    frozen_layers: int = 0
    cache_frozen: bool = False
    split_seed: int | None = None
    counterfactual: float = 0.0
    mirror: bool = False
    lm_probe: bool = False
    stack_folds: str = "claim"
    claim_bias: float = 0.0
    gate_objective: str = "fnc"
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    lm: LMPairConfig = field(default_factory=LMPairConfig)

    def __post_init__(self):
        if self.dev_split not in ("story", "body"):
            raise ValueError("dev_split must be 'story' or 'body'")
        if not 0 < self.dev_fraction < 0.5:
            raise ValueError("dev_fraction must be in (0, 0.5)")
        if self.refit_only and self.init == "base":
            raise ValueError("refit_only needs --stance-init (shipped or a model folder)")
        if self.max_length < 16:
            raise ValueError("max_length must be at least 16")
        if self.counterfactual < 0:
            raise ValueError("counterfactual must be 0 or more")
        if self.stack_folds not in ("claim", "story"):
            raise ValueError("stack_folds must be 'claim' or 'story'")
        if self.gate_objective not in GATE_OBJECTIVES:
            raise ValueError(f"gate_objective must be one of {', '.join(map(repr, GATE_OBJECTIVES))}")
        if self.frozen_layers < 0:
            raise ValueError("frozen_layers must be 0 or more")
        if self.claim_bias < 0:
            raise ValueError("claim_bias must be 0 or more")
        if self.stack_disagree_split not in DISAGREE_SPLITS:
            raise ValueError(f"stack_disagree_split must be one of {', '.join(DISAGREE_SPLITS)}")
        if self.stack_disagree_inputs and not self.stack:
            raise ValueError("stack_disagree_inputs needs stack: the stacker is what reads them")
        if self.stack_news and not self.stack:
            raise ValueError("stack_news needs stack: the stacker is what reads those pairs")
        if self.lm_probe and not self.stack:
            raise ValueError("lm_probe needs stack: the stacker is what reads the probe")
        if self.cache_frozen and not self.frozen_layers:
            raise ValueError("cache_frozen needs frozen_layers: only frozen layers can be cached")
        if self.dev_precision not in PRECISIONS:
            raise ValueError(f"dev_precision must be one of {', '.join(map(repr, PRECISIONS))}")
        check_at_least(self, 0, "class_weight_power", "lora_rank", "own_headlines", "contradictions",
                       "stack_news", "stack_news_weight")
        check_at_least(self, 1, "max_train_samples")
        check_share(self, "attention_dropout")


def _with_news_pairs(config: StanceTrainConfig, train: StanceData, data: StanceData, labels, seed: int, kind: str,
                     exclude: frozenset[str] = frozenset()):
    """``train`` and ``data`` plus the BBC News Summary training pairs of ``kind`` (training side only):
    'own' adds ``config.own_headlines`` articles with their own headline (agree), 'contra' adds
    ``config.contradictions`` articles with a claim they contradict (disagree); articles in ``exclude`` never."""
    from training.data.stance_data import merge_stance_data
    from training.paths import bbc_summary_file

    if kind == "own":
        from training.data.stance_own_headlines import OWN_HEADLINE_LABEL as label, own_headline_pairs as pairs

        count, what = config.own_headlines, "own-headline"
    else:
        from training.data.stance_contradictions import CONTRADICTION_LABEL as label, contradiction_pairs as pairs

        count, what = config.contradictions, "contradicting-claim"
    if label not in labels:
        raise InputError(f"{what} pairs are labelled '{label}', which the training data lacks "
                         f"(its labels: {list(labels)})")
    path = bbc_summary_file(config.own_headline_data, f"{what} data")
    added = pairs(path, count, seed, exclude=exclude)
    tqdm.write(f"added {len(added.examples)} {what} {label} pairs from {path}")
    return merge_stance_data(train, added, f"{kind}:"), merge_stance_data(data, added, f"{kind}:")


def _stacker_news(config: StanceTrainConfig, data: StanceData, labels, seed: int):
    """(the stacker's news pairs with their body ids prefixed 'stack:', ``data`` plus them, the ids of their
    articles), for ``config.stack_news``."""
    from training.data.stance_contradictions import stacker_news_pairs
    from training.data.stance_data import merge_stance_data
    from training.paths import bbc_summary_file

    missing = sorted({"agree", "disagree"} - set(labels))
    if missing:
        raise InputError(f"the stacker's news pairs are labelled agree and disagree; the training data lacks {missing}")
    news = stacker_news_pairs(bbc_summary_file(config.own_headline_data, "stacker news data"), config.stack_news, seed)
    tqdm.write(f"held out {len(news.bodies)} BBC training articles for the stacker: {len(news.examples)} pairs")
    return (merge_stance_data(StanceData([], {}), news, "stack:"), merge_stance_data(data, news, "stack:"),
            frozenset(news.bodies))


@dataclass
class PairItem:
    claim: str
    evidence: str
    label: int
    bias: np.ndarray | None = None  # claim-only log-probabilities added in the loss (claim_bias)


@contextmanager
def dev_reader(pairs: PairClassifier, precision: str, memo: bool = False):
    """Within the block, ``pairs`` reads with a bfloat16 copy of its encoder when ``precision`` is 'bf16'. With
    ``memo`` (for the passes after training, when the weights no longer change) each pair is read once however many
    passes ask for it. Inside a block that already set these up, it changes nothing."""
    if getattr(pairs, "_dev_reader", False):
        yield
        return
    trained, pairs._dev_reader = pairs.encoder, True
    if precision != "fp32":
        pairs.encoder = fast_encoder(trained, "bf16")
    if memo:
        pairs.memo = {}
    try:
        yield
    finally:
        pairs.encoder, pairs.memo, pairs._dev_reader = trained, None, False


def view_pairs(data: StanceData, encoder: SentenceEncoder) -> tuple[dict[str, ArticleView], dict[str, np.ndarray]]:
    """Article views for every body and unit vectors for every distinct claim."""
    body_ids = sorted(data.bodies)
    tqdm.write(f"embedding {len(body_ids)} bodies and {len({e.claim for e in data.examples})} claims")
    views = dict(zip(body_ids, read_articles([data.bodies[b] for b in body_ids], encoder)))
    claims = sorted({e.claim for e in data.examples})
    return views, dict(zip(claims, encoder.embed(claims)))


def gate_features(data: StanceData, views, claim_vecs) -> np.ndarray:
    return np.stack([relatedness_features(e.claim, claim_vecs[e.claim], views[e.body_id].sentences,
                                          views[e.body_id].vectors) for e in data.examples])


def fit_gate(features: np.ndarray, related: np.ndarray, seed: int) -> RelatednessGate:
    from sklearn.linear_model import LogisticRegression

    mean, scale = features.mean(0), features.std(0) + 1e-6
    clf = LogisticRegression(C=1.0, max_iter=2000, random_state=seed).fit((features - mean) / scale, related)
    return RelatednessGate(mean.astype(np.float32), scale.astype(np.float32), clf.coef_[0].astype(np.float32),
                           float(clf.intercept_[0]))


def tune_threshold(gate: RelatednessGate, features: np.ndarray, gold: list[str], pair_guess: list[str],
                   unrelated: str, unrelated_share: float, objective: str = "fnc") -> float:
    """Threshold on P(related) that maximises ``objective`` (the FNC score or macro-F1, GATE_OBJECTIVES) on dev,
    given the pair classifier's guesses; the lowest such threshold when several tie.

    Dev pairs are weighted so that unrelated pairs make up ``unrelated_share`` (the training mix): a story split
    drops the unrelated pairs that cross it, so raw dev has too few of them."""
    p = gate.probability(features)
    n_unrelated = sum(g == unrelated for g in gold)
    n_related = len(gold) - n_unrelated
    w_unrelated = (unrelated_share / max(1e-9, 1 - unrelated_share)) * n_related / max(1, n_unrelated)
    weights = [w_unrelated if g == unrelated else 1.0 for g in gold]
    labels = sorted(set(gold) | set(pair_guess) | {unrelated})
    best, best_t = -1.0, 0.5
    for t in np.arange(0.05, 0.951, 0.025):
        predicted = [guess if pi >= t else unrelated for pi, guess in zip(p, pair_guess)]
        if objective == "fnc":
            score, top = fnc_score(gold, predicted, weights)
            score = score / top
        else:
            score = classification_report(gold, predicted, labels, weights)["macro_f1"]
        if score > best + 1e-12:
            best, best_t = score, float(t)
    return best_t


def tune_offsets(logits: torch.Tensor, gold: list[int], n_labels: int) -> torch.Tensor:
    """Per-class logit offsets (coarse grid, coordinate ascent) that maximise dev macro-F1."""
    labels = list(range(n_labels))
    offsets = torch.zeros(n_labels)

    def macro(o):
        pred = (logits + o).argmax(1).tolist()
        return classification_report(gold, pred, labels)["macro_f1"]

    best = macro(offsets)
    for _ in range(2):
        for c in range(n_labels):
            for delta in np.arange(-1.5, 1.51, 0.25):
                trial = offsets.clone()
                trial[c] = float(delta)
                score = macro(trial)
                if score > best + 1e-9:
                    best, offsets = score, trial
    return offsets


def pair_items(data: StanceData, views, claim_vecs, settings: EvidenceSettings, labels: tuple[str, ...]) -> list[PairItem]:
    index = {label: i for i, label in enumerate(labels)}
    kept = [e for e in data.examples if e.label in index]
    articles = [views[e.body_id] for e in kept]
    chosen = [pick_evidence(settings, e.claim, claim_vecs[e.claim], a) for e, a in zip(kept, articles)]
    # one call for all pairs, so an article's names (with mask_names) are read once, not once per claim
    claims, evidence = classifier_pairs(settings, [e.claim for e in kept], articles, chosen)
    return [PairItem(c, t, index[e.label]) for c, t, e in zip(claims, evidence, kept)]


def fit_lm_probe(items: list[PairItem], config: LMPairConfig, n_labels: int) -> tuple[LMPairReader, dict]:
    """A language-model reader whose probe (class-balanced logistic regression) is fitted on ``items``; its vector
    cache stays on, so the dev pairs the stacker and the threshold read are computed once."""
    from training.linear_fit import fit_standardized_linear

    started = time.time()
    reader = LMPairReader(config)
    tqdm.write(f"reading {len(items)} training pairs with layer {config.layer} of {config.name} for the probe")
    x = reader.vectors([it.claim for it in items], [it.evidence for it in items])
    reader.probe, _ = fit_standardized_linear(x, np.array([it.label for it in items]), n_labels, config.c,
                                              class_weight="balanced")
    reader.cache = {}
    return reader, {"train_pairs": len(items), "seconds": round(time.time() - started, 1), "kept": True}


MIN_DEV_PAIRS = 5  # fewer, and the dev split's choices and scores are noise ("macro-F1 1.0" on one pair)


def train_stance(data: StanceData, output: Path, config: StanceTrainConfig, loop: LoopConfig,
                 resume: bool = False, extra_card: dict | None = None) -> dict:
    """Train on ``data`` (dev carved from it by body), save the best model to ``output``; returns dev metrics."""
    started = time.time()
    labels = sorted({e.label for e in data.examples})
    unrelated = config.unrelated_label if config.unrelated_label in labels else None
    pair_labels = tuple(label for label in labels if label != unrelated)
    if len(pair_labels) < 2:
        if unrelated is None:
            raise InputError(f"the data has only the label {labels}: a stance model needs at least two")
        raise InputError(f"the data has the labels {labels}: besides '{unrelated}', which the relatedness gate decides, "
                         f"the pair classifier needs at least two labels to choose between. To let one classifier "
                         f"decide all of them without a gate, pass --stance-unrelated-label ''")
    if config.stack_disagree_inputs and "disagree" not in pair_labels:
        raise InputError(f"--stance-stack-disagree-inputs needs a 'disagree' label; the data has {labels}")
    if unrelated is None and config.unrelated_label:
        tqdm.write(f"note: no '{config.unrelated_label}' label in the data, so no relatedness gate: the pair classifier "
                   "alone decides every label (--stance-unrelated-label names the label a gate would decide)")
    split_seed = loop.seed if config.split_seed is None else config.split_seed
    if config.dev_split == "story":
        train, dev = split_by_story(data, config.dev_fraction, split_seed, config.unrelated_label)
    else:
        train, dev = split_by_body(data, config.dev_fraction, split_seed)
    if config.max_train_samples:
        train.examples = train.examples[: config.max_train_samples]
    if config.extra_train:
        from training.data.stance_data import load_extra_training, merge_stance_data

        extra = load_extra_training(Path(config.extra_train))
        unknown = sorted({e.label for e in extra.examples} - set(labels))
        if unknown:
            raise InputError(f"{config.extra_train}: labels {unknown} do not occur in the main training data")
        train = merge_stance_data(train, extra)
        data = merge_stance_data(data, extra)
        tqdm.write(f"added {len(extra.examples)} extra training pairs from {config.extra_train}")
    stack_news, held, news_counts = None, frozenset(), {}
    if config.stack_news:
        stack_news, data, held = _stacker_news(config, data, labels, loop.seed)
        news_counts["stacker_news_pairs"] = len(stack_news.examples)
    for kind, wanted in (("own", config.own_headlines), ("contra", config.contradictions)):
        if wanted:
            before = len(train.examples)
            train, data = _with_news_pairs(config, train, data, labels, loop.seed, kind, held)
            news_counts[f"{kind}_pairs"] = len(train.examples) - before
    tqdm.write(f"train pairs {len(train.examples)}, dev pairs {len(dev.examples)}, labels {labels}")
    if not train.examples:
        stories = len(set(story_ids(dev.examples, config.unrelated_label)))
        raise InputError(f"the dev split took all {len(dev.examples)} pairs, leaving none to train on" + (
            f": they form {stories} {'story' if stories == 1 else 'stories'} (claims and bodies that related pairs "
            "join), and a story is never split between train and dev. Add pairs with other claims and bodies, or "
            "pass --stance-dev-split body to split by body only" if config.dev_split == "story" else
            ": add pairs with more bodies"))
    if len(dev.examples) < MIN_DEV_PAIRS:
        units = "stories" if config.dev_split == "story" else "bodies"
        raise InputError(f"the dev split holds {len(dev.examples)} pair(s) (--stance-dev-fraction "
                         f"{config.dev_fraction:g} of the {units}); it picks the checkpoint, offsets and threshold, "
                         f"and scores the run, so it needs at least {MIN_DEV_PAIRS}: raise the dev fraction or add pairs")
    dev_spread = label_spread(dev.examples, config.unrelated_label)
    for label, spread in dev_spread.items():
        if spread["largest_story_share"] >= 0.5:
            tqdm.write(f"warning: {spread['largest_story_share']:.0%} of the {spread['pairs']} dev '{label}' pairs come "
                       f"from one story ({spread['stories']} stories in all), so dev numbers for '{label}' mostly "
                       "measure that story")

    encoder = SentenceEncoder(EncoderConfig(name=config.base_model))
    views, claim_vecs = view_pairs(data, encoder)

    gate = None
    if unrelated:
        tr_feats, dev_feats = gate_features(train, views, claim_vecs), gate_features(dev, views, claim_vecs)
        gate = fit_gate(tr_feats, np.array([e.label != unrelated for e in train.examples]), loop.seed)

    torch.manual_seed(loop.seed)
    pairs = PairClassifier(config.pair_model or config.base_model, pair_labels, config.max_length,
                           attention_dropout=config.attention_dropout, frozen_layers=config.frozen_layers,
                           lora_rank=config.lora_rank, lora_alpha=config.lora_alpha)
    if config.init != "base":
        from training.init import averaged_state, init_folders

        starts = [StanceModel.load(folder) for folder in init_folders(config.init, "stance")]
        for start in starts:
            if start.pairs.labels != pair_labels:
                raise InputError(f"--stance-init model has labels {list(start.pairs.labels)}, the data has {list(pair_labels)}")
        pairs.load_trained_state(averaged_state([s.pairs.trained_state(torch.float32) for s in starts]), config.init)
        pairs.train()
    train_items = pair_items(train, views, claim_vecs, config.evidence, pair_labels)
    dev_items = pair_items(dev, views, claim_vecs, config.evidence, pair_labels)
    # the probe learns from real claims only, read as the language model reads them at prediction (names unmasked)
    probe_items = (list(train_items) if not config.evidence.mask_names else
                   pair_items(train, views, claim_vecs, replace(config.evidence, mask_names=False), pair_labels))
    if config.counterfactual:
        from training.data.stance_counterfactual import counterfactual_items

        made = counterfactual_items(train_items, pair_labels, config.counterfactual, loop.seed)
        train_items += made
        tqdm.write(f"added {len(made)} counterfactual pairs (refuted claims, agree and disagree swapped)")
    if config.claim_bias:
        from training.stance_debias import claim_bias_log_probs

        for item, row in zip(train_items, claim_bias_log_probs(train_items, len(pair_labels))):
            item.bias = (config.claim_bias * row).astype(np.float32)
    counts = np.bincount([it.label for it in train_items], minlength=len(pair_labels)).astype(np.float64)
    weights = (counts.max() / np.maximum(counts, 1)) ** config.class_weight_power
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
    tqdm.write(f"pair classifier: {len(train_items)} train / {len(dev_items)} dev items, class weights {weights.round(2)}")

    cache = None
    if config.cache_frozen and not config.refit_only:
        from training.pair_cache import FrozenLayerCache

        cache, began = FrozenLayerCache(pairs), time.time()
        cache.fill([(it.claim, it.evidence) for it in train_items + dev_items], bf16=loop.precision == "bf16",
                   progress=True)
        tokens = sum(len(state) for state in cache.states.values())
        tqdm.write(f"cached the lowest {config.frozen_layers} layers for {len(cache.states)} pairs ({tokens} tokens) "
                   f"in {time.time() - began:.0f} s")

    def batch_loss(batch: list[PairItem]) -> torch.Tensor:
        claims, evidence = [b.claim for b in batch], [b.evidence for b in batch]
        logits = cache.logits(claims, evidence) if cache else pairs(**pairs.tokenize(claims, evidence))
        if config.claim_bias:
            logits = logits.float() + torch.from_numpy(np.stack([b.bias for b in batch]))
        return loss_fn(logits, torch.tensor([b.label for b in batch]))

    def dev_logits() -> torch.Tensor:
        with dev_reader(pairs, config.dev_precision):
            probs = pairs.predict_proba([it.claim for it in dev_items], [it.evidence for it in dev_items])
        return torch.log(probs.clamp_min(1e-9)) - pairs.bias

    def evaluate() -> float:
        logits = (cache.predict_logits([it.claim for it in dev_items], [it.evidence for it in dev_items],
                                       bf16=config.dev_precision == "bf16") if cache else dev_logits())
        if config.claim_bias:  # the classifier's own logits leave out what the claim explains, class prior included
            logits = logits + tune_offsets(logits, [it.label for it in dev_items], len(pair_labels))
        pred = logits.argmax(1).tolist()
        return classification_report([it.label for it in dev_items], pred, list(range(len(pair_labels))))["macro_f1"]

    if config.refit_only:
        result = None
        tqdm.write(f"refit only: pair classifier kept from {config.init}, dev pair macro-F1 {evaluate():.4f}")
    else:
        result = train_loop(pairs, train_items, batch_loss, evaluate, loop, checkpoint_dir=output / "checkpoints",
                            resume=resume)
        cache = None  # frees the cached states before the dev passes below
    # The weights are final from here on: every pass below shares one reading of each dev pair.
    post_training = ExitStack()
    post_training.enter_context(dev_reader(pairs, config.dev_precision, memo=True))
    if config.tune_offsets and dev_items:
        pairs.bias.data = tune_offsets(dev_logits(), [it.label for it in dev_items], len(pair_labels))

    lm_reader, probe_note = (fit_lm_probe(probe_items, config.lm, len(pair_labels))
                             if config.lm_probe and probe_items else (None, None))
    # Threshold tuning and dev report for the whole model.
    model = StanceModel(pairs, gate, unrelated, config.evidence, mirror=config.mirror, lm_reader=lm_reader,
                        sentence_model=config.base_model,
                        disagree_inputs=config.stack_disagree_split if config.stack_disagree_inputs else None)
    stack_note = None
    if config.stack:
        from training.stance_stack import stack_model

        with dev_reader(pairs, config.dev_precision):
            stacked = stack_model(model, dev, views, claim_vecs, loop.seed, config.stack_folds, stack_news,
                                  config.stack_news_weight)
        if stacked is not None:
            stack_note = {"dev_pairs": stacked.n_pairs, **({"news_pairs": stacked.extra_pairs, "news_weight":
                                                             config.stack_news_weight} if stacked.extra_pairs else {}),
                          "c": stacked.c, "folds_grouped_by": stacked.folds_grouped_by,
                          "fold_groups": stacked.groups,
                          "pair_classifier_macro_f1": round(stacked.pair_only_macro_f1, 4),
                          "stacked_out_of_fold_macro_f1": round(stacked.folds_macro_f1, 4)}
            if stacked.mirror_macro_f1 is not None:
                stack_note["mirror_averaged_macro_f1"] = round(stacked.mirror_macro_f1, 4)
            mirrored = ("" if stacked.mirror_macro_f1 is None
                        else f", {stacked.mirror_macro_f1:.4f} (both views averaged)")
            news = (f" (and {stacked.extra_pairs} news pairs at weight {config.stack_news_weight:g} in its fits)"
                    if stacked.extra_pairs else "")
            tqdm.write(f"stacker on {stacked.n_pairs} dev pairs{news}: related macro-F1 {stacked.pair_only_macro_f1:.4f} "
                       f"(pair classifier{mirrored}) -> {stacked.folds_macro_f1:.4f} (stacked, out of fold), "
                       f"C={stacked.c}, folds by {stacked.folds_grouped_by} ({stacked.groups} groups)")
    if lm_reader is not None and model.stacker is None:  # only the stacker reads the probe
        model.lm_reader = None
        probe_note["kept"] = False
        tqdm.write("no stacker was fitted (dev too small), so the language-model probe is left out of the model")
    def dev_predictions():
        with dev_reader(pairs, config.dev_precision):
            return model.predict([e.claim for e in dev.examples], np.stack([claim_vecs[e.claim] for e in dev.examples]),
                                 [views[e.body_id] for e in dev.examples])

    dev_pred = dev_predictions()
    if gate is not None:
        guesses = [pr.label if pr.label != unrelated else max(pair_labels, key=lambda l: pr.probabilities[l])
                   for pr in dev_pred]
        share = float(np.mean([e.label == unrelated for e in train.examples]))
        dev_unrelated = sum(e.label == unrelated for e in dev.examples)
        if 0 < dev_unrelated < len(dev.examples):
            gate.threshold = tune_threshold(gate, dev_feats, [e.label for e in dev.examples], guesses, unrelated, share,
                                            config.gate_objective)
            dev_pred = dev_predictions()
        else:  # every threshold scores the same on such a dev split, and the lowest would pass nearly every pair
            gate.threshold = 0.5
            tqdm.write(f"warning: the {len(dev.examples)} dev pairs hold {'no' if not dev_unrelated else 'only'} "
                       f"'{unrelated}' pairs, so the gate's threshold cannot be tuned and stays at 0.5; add more "
                       "stories or a larger --stance-dev-fraction")
    post_training.close()
    if lm_reader is not None:
        lm_reader.cache = None
    from training.metrics import stance_report

    dev_report = stance_report([e.label for e in dev.examples], [p.label for p in dev_pred], list(model.labels))
    card = {
        "trained_on": {"pairs": len(train.examples), "dev_pairs": len(dev.examples), "split_seed": split_seed,
                       **news_counts,
                       "dev_label_spread": dev_spread},
        "train_config": config_dict(loop) | {"base_model": config.base_model,
                                             "pair_model": config.pair_model or config.base_model,
                                             "lora_rank": config.lora_rank, "lora_alpha": config.lora_alpha,
                                             "max_length": config.max_length,
                                             "class_weight_power": config.class_weight_power,
                                             "attention_dropout": config.attention_dropout,
                                             "frozen_layers": config.frozen_layers,
                                             "cache_frozen": config.cache_frozen,
                                             "dev_fraction": config.dev_fraction,
                                             "own_headlines": config.own_headlines,
                                             "contradictions": config.contradictions,
                                             "stack_news": config.stack_news,
                                             "stack_news_weight": config.stack_news_weight,
                                             "stack_disagree_inputs": config.stack_disagree_inputs,
                                             "stack_disagree_split": config.stack_disagree_split,
                                             "counterfactual": config.counterfactual, "mirror": config.mirror,
                                             "lm_probe": config.lm_probe, "claim_bias": config.claim_bias},
        "dev_metrics": dev_report,
        "loop": ({"best_dev_pair_macro_f1": result.best_metric, "best_step": result.best_step,
                  "steps": result.steps, "averaged_states": result.averaged, "history": result.history}
                 if result else {"refit_only": config.init}),
        "stacker": stack_note,
        **({"lm_probe": probe_note} if probe_note else {}),
        "train_seconds": round(time.time() - started, 1),
        **(extra_card or {}),
    }
    if distributed.is_main():
        model.save(output, {"training": card})
    return card
