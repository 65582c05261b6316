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
