"""The ONNX Runtime graphs of an encoder (plain or with fused BERT operators, fp32 or int8): torch's answers."""
import pytest
import torch

pytest.importorskip("onnxruntime")


def test_fused_and_int8_graphs_match_torch_on_a_padded_batch(tmp_path):
    import onnx

    from model.encoder import load_encoder_module, load_tokenizer
    from model.onnx_backend import OnnxEncoder, export_encoder, graph_path
    from model.resolve import TINY_ENCODER

    module, tokenizer = load_encoder_module(TINY_ENCODER).eval(), load_tokenizer(TINY_ENCODER)
    batch = tokenizer(["A short one.", "A much longer sentence about floods in the delta region this week."],
                      ["Claim here", "Second text"], padding=True, return_tensors="pt")
    with torch.inference_mode():
        reference = module(**batch).last_hidden_state
    mask = batch["attention_mask"].bool()
    for fuse, quantize, tolerance in ((False, False, 1e-4), (False, True, 0.5), (True, False, 1e-4), (True, True, 0.5)):
        path = export_encoder(module, tmp_path, quantize=quantize, fuse=fuse)
        assert path == graph_path(tmp_path, fuse, quantize) and path.exists()
        ops = {node.op_type for node in onnx.load(str(path)).graph.node}
        if fuse:
            assert "SkipLayerNormalization" in ops and ops & {"EmbedLayerNormalization", "QEmbedLayerNormalization"}
            assert ("QAttention" if quantize else "Attention") in ops, ops
        else:
            assert "Attention" not in ops and "MatMul" + ("Integer" if quantize else "") in ops
        hidden = OnnxEncoder(path, module.config, threads=1)(**batch).last_hidden_state
        error = (hidden - reference).abs()[mask].max().item()  # padded positions are not read by mean pooling
        assert error < tolerance, (fuse, quantize, error)
        cosine = torch.nn.functional.cosine_similarity(hidden[mask], reference[mask], dim=-1).min().item()
        assert cosine > 0.95, (fuse, quantize, cosine)


def test_int8_keeps_each_feed_forward_output_projection_in_float(tmp_path, capsys):
    """The products that read the feed-forward width stay MatMul (float); every other weight product turns int8.
    The one-time export says so on stderr; reading the cached graph back says nothing."""
    import onnx

    from model.encoder import load_encoder_module
    from model.onnx_backend import export_encoder, float_products, graph_path
    from model.resolve import TINY_ENCODER

    module = load_encoder_module(TINY_ENCODER).eval()
    config = module.config
    path = export_encoder(module, tmp_path, quantize=True)
    note = capsys.readouterr().err
    assert f"preparing the ONNX Runtime graph of the bert encoder in {tmp_path} (one time)" in note and "done in" in note
    assert export_encoder(module, tmp_path, quantize=True) == path and capsys.readouterr().err == ""
    int8 = onnx.load(str(path)).graph
    plain = onnx.load(str(graph_path(tmp_path, False, False))).graph
    kept = float_products(plain, config.intermediate_size)
    assert len(kept) == config.num_hidden_layers and all("output/dense" in name and "attention" not in name for name in kept)
    weight_products = {node.name for node in plain.node if node.op_type == "MatMul"
                       and any(i.name in node.input for i in plain.initializer)}
    assert len(weight_products) == 6 * config.num_hidden_layers  # q, k, v, attention out, up, down per block
    float_weights = [node.name for node in int8.node if node.op_type == "MatMul"
                     and any(i.name in node.input for i in int8.initializer)]
    assert sorted(float_weights) == sorted(kept)
    integer = [node for node in int8.node if node.op_type == "MatMulInteger"]
    assert len(integer) == 5 * config.num_hidden_layers


def test_an_int8_text_gets_the_same_numbers_alone_and_in_a_batch(tmp_path):
    """int8 graphs quantise activations per tensor; each text runs alone, so the texts beside it change nothing."""
    from model.encoder import load_encoder_module, load_tokenizer
    from model.onnx_backend import OnnxEncoder, export_encoder, unpadded_spans
    from model.resolve import TINY_ENCODER

    module, tokenizer = load_encoder_module(TINY_ENCODER).eval(), load_tokenizer(TINY_ENCODER)
    encoder = OnnxEncoder(export_encoder(module, tmp_path, quantize=True), module.config, threads=1)
    text = "Floods hit the delta region this week."
    others = ["A much longer sentence, with numbers like 12,400 and 3.5 million, about markets and trade deals.", "Ok."]
    alone = encoder(**tokenizer([text], return_tensors="pt")).last_hidden_state[0]
    batch = tokenizer([others[0], text, others[1]], padding=True, return_tensors="pt")
    beside = encoder(**batch).last_hidden_state
    n = len(alone)
    torch.testing.assert_close(beside[1, :n], alone, rtol=0, atol=1e-6)
    short = int(batch["attention_mask"][2].sum())
    assert beside[1, n:].abs().max() == 0 and beside[2, short:].abs().max() == 0  # padded positions stay empty
    assert unpadded_spans(batch["attention_mask"].numpy()) == [(0, len(batch["input_ids"][0])), (0, n), (0, short)]
    assert unpadded_spans(torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]]).numpy()) == [(2, 4), (0, 4)]  # left padding


def test_an_unwritable_cache_is_a_clear_error_naming_newslens_cache(tmp_path):
    from model.encoder import load_encoder_module
    from model.errors import NewsLensError
    from model.onnx_backend import export_encoder
    from model.resolve import TINY_ENCODER

    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    module = load_encoder_module(TINY_ENCODER).eval()
    with pytest.raises(NewsLensError, match=r"cannot write the ONNX Runtime graph into .*afile/onnx .*set "
                                            r"NEWSLENS_CACHE to a writable folder, or run the encoders with torch or bf16 \(--runtime for predict and demo, "
                                            r"--backend for evaluate and bench\)"):
        export_encoder(module, blocker / "onnx")


def test_an_encoder_without_token_types_exports_and_matches_torch(tmp_path):
    """MPNet (all-mpnet-base-v2, a stance pair model) takes no token_type_ids; its graph has no such input."""
    from transformers import MPNetConfig, MPNetModel

    from model.onnx_backend import OnnxEncoder, export_encoder

    torch.manual_seed(0)
    module = MPNetModel(MPNetConfig(vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                    intermediate_size=64, max_position_embeddings=80), add_pooling_layer=False).eval()
    ids = torch.tensor([[0, 11, 12, 13, 2], [0, 14, 2, 1, 1]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    with torch.inference_mode():
        reference = module(input_ids=ids, attention_mask=mask).last_hidden_state
    encoder = OnnxEncoder(export_encoder(module, tmp_path, quantize=False), module.config, threads=1)
    assert encoder.input_names == {"input_ids", "attention_mask"}
    hidden = encoder(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
    assert (hidden - reference).abs()[mask.bool()].max().item() < 1e-4
