"""python -m tvk.generation CONFIG [key=value ...] [--out DIR]: runs the generation experiment
and writes <out>/<name>.csv and .h5 (default out: results). Bad input is one message and exit 2."""

from __future__ import annotations

import argparse
import shlex
import sys
import time

from tvk import InputError


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tvk.generation", description=__doc__.split("\n")[0],
        epilog="Overrides are key=value with YAML values, e.g. prefill=[256] steps=16 "
               "methods=[dense,quantized8] params.quantized8=[0.05] greedy=null")
    parser.add_argument("config", help="the YAML config (configs/generation_llm.yaml)")
    parser.add_argument("overrides", nargs="*", help="key=value overrides")
    parser.add_argument("--out", default="results", help="output folder (default results)")
    args = parser.parse_args(argv)
    from . import config as config_module
    from . import experiment, model, results

    try:
        config = config_module.load(args.config, args.overrides)
        started = time.perf_counter()
        net, tokenizer, gguf = model.load(config.model, config.threads)
        needed = max(config.prefill) + config.steps + 1
        if config.greedy:
            needed = max(needed, config.greedy.prompts * config.greedy.prompt_tokens + 1)
        ids = model.token_ids(tokenizer, config.text_files, config.text_start, needed)
        print(f"{config.path}: {len(ids)} tokens of {', '.join(config.text_files)}; model loaded in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        tables = experiment.run(config, net, ids, log=lambda line: print(line, flush=True))
        attributes = results.provenance(config, gguf, model.describe_files(config.text_files),
                                        shlex.join(["python", "-m", "tvk.generation", *argv]))
        csv, h5 = results.write(args.out, config.name, tables, attributes, results.DOCS)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {csv} and {h5} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
