"""Language-model lead vectors and the linear event classifier over them: the cut model reads the chosen layer,
vectors ignore padding, and the stored linear classifier computes what scikit-learn fitted."""
import numpy as np
import pytest
import torch


def test_vectors_are_the_mean_of_the_chosen_layer_without_bos(tiny_generator):
    from transformers import AutoModel, AutoTokenizer

    from model.lm_features import LMFeatureConfig, LMFeatureEncoder

    lm = LMFeatureEncoder(LMFeatureConfig(name=str(tiny_generator), layer=1, max_length=32), dtype=torch.float32)
    assert len(lm.model.layers) == 1
    text = "Troops leave the border\nThe army pulled out two brigades on Monday."
    got = lm.encode([text])[0]
    full = AutoModel.from_pretrained(tiny_generator, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_generator)
    enc = tokenizer([text], return_tensors="pt", truncation=True, max_length=32)
    with torch.inference_mode():
        hidden = full(**enc, output_hidden_states=True).hidden_states[1][0]  # output of the first layer
    keep = enc["input_ids"][0] != tokenizer.bos_token_id
    np.testing.assert_allclose(got, hidden[keep].mean(0).numpy(), rtol=1e-4, atol=1e-5)
    # batched with a longer text (padding) gives the same vector; different texts differ
    batch = lm.encode([text + " More words follow here, and then some more.", text])
    np.testing.assert_allclose(batch[1], got, rtol=1e-4, atol=1e-5)
    assert not np.allclose(batch[0], got)


def test_concurrent_requests_each_get_their_own_vectors(tiny_generator):
    """The demo serves requests in threads that share one encoder; its forward hook once kept one list for all."""
    from concurrent.futures import ThreadPoolExecutor

    from model.lm_features import LMFeatureConfig, LMFeatureEncoder

    lm = LMFeatureEncoder(LMFeatureConfig(name=str(tiny_generator), layer=2, max_length=64), dtype=torch.float32)
    texts = [f"Story {i}: " + " ".join(["troops", "floods", "markets", "votes"][i % 4] for _ in range(5 + i))
             for i in range(8)]
    alone = [lm.encode([t])[0] for t in texts]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda i: lm.encode([texts[i % 8]])[0], range(400)))
    for i, vector in enumerate(together):
        np.testing.assert_allclose(vector, alone[i % 8], rtol=1e-4, atol=1e-5)


def test_onnx_runtime_gives_the_torch_vectors(tiny_generator, tmp_path, monkeypatch):
    onnx = pytest.importorskip("onnx")
    from model.lm_features import LMFeatureConfig, LMFeatureEncoder
    from model.onnx_backend import INT8_SUFFIX

    monkeypatch.setenv("NEWSLENS_CACHE", str(tmp_path))
    config = LMFeatureConfig(name=str(tiny_generator), layer=2, max_length=32)
    texts = ["Troops leave the border\nThe army pulled out two brigades on Monday.", "Shares fell.",
             "Protesters marched through the capital on Sunday, demanding new elections and the release of leaders."]
    reference = LMFeatureEncoder(config, runtime="torch").encode(texts)
    lm = LMFeatureEncoder(config, runtime="onnx")
    graphs = list(tmp_path.rglob(f"layers{INT8_SUFFIX}.onnx"))
    assert lm.model is None and len(graphs) == 1
    products = [n for n in onnx.load(str(graphs[0])).graph.node if n.op_type in ("MatMul", "MatMulInteger")]
    float_downs = [n.name for n in products if n.op_type == "MatMul" and "down_proj" in n.name]
    assert len(float_downs) == config.layer  # each layer's MLP output projection stays float (onnx_backend.quantize_weights)
    assert sum(n.op_type == "MatMulInteger" for n in products) == 6 * config.layer  # q, k, v, o, gate, up
    got = lm.encode(texts)
    cosine = (got * reference).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(reference, axis=1)
    assert got.shape == reference.shape and cosine.min() > 0.99
    again = LMFeatureEncoder(config, runtime="onnx").encode(texts)  # the cached graph, read back
    np.testing.assert_allclose(again, got, rtol=1e-5, atol=1e-6)
    alone = np.stack([lm.encode([t])[0] for t in texts])  # int8 runs each text alone: the batch changes nothing
    np.testing.assert_allclose(alone, got, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="runtime"):
        LMFeatureEncoder(config, runtime="gpu")


def test_a_layer_past_the_last_is_refused(tiny_generator):
    from model.lm_features import LMFeatureConfig, LMFeatureEncoder

    with pytest.raises(ValueError, match="has 2 layers"):
        LMFeatureEncoder(LMFeatureConfig(name=str(tiny_generator), layer=3))
    with pytest.raises(ValueError, match="layer must be"):
        LMFeatureConfig(layer=0)


def test_standardized_linear_matches_sklearn():
    from sklearn.linear_model import LogisticRegression

    from model.event_lm import StandardizedLinear

    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (60, 5)).astype(np.float32)
    y = (x[:, 0] > 3).astype(int) + (x[:, 1] > 3).astype(int)
    mean, scale = x.mean(0), x.std(0)
    fit = LogisticRegression(C=1.0, max_iter=1000).fit((x - mean) / scale, y)
    linear = StandardizedLinear(mean, scale, fit.coef_, fit.intercept_)
    np.testing.assert_allclose(linear.log_probabilities(x), fit.predict_log_proba((x - mean) / scale), atol=1e-4)
    again = StandardizedLinear.from_tensors(linear.tensors("linear."), "linear.")
    np.testing.assert_array_equal(again.log_probabilities(x), linear.log_probabilities(x))
    with pytest.raises(ValueError, match="inputs"):
        StandardizedLinear(mean[:4], scale[:4], fit.coef_, fit.intercept_)
