"""``freqprobe humans serve --sets NAME=P [NAME=P] --out DIR``: the psychophysics page on
127.0.0.1, trials written to DIR in model-vs-human's raw-data format."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

from ..errors import FreqprobeError

NAME = "humans"
HELP = "collect human trials on a local psychophysics page (2AFC real vs generated, 16-class categorisation)"


def _named_set(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: give a set as NAME=PATH")
    return name, path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    serve = actions.add_parser("serve", help="prepare the stimuli and serve the page until Ctrl-C")
    serve.add_argument("--sets", nargs="+", required=True, type=_named_set, metavar="NAME=PATH",
                       help="2afc: two image sets (the first is the one asked for); categorise: one labelled folder")
    serve.add_argument("--task", choices=("2afc", "categorise"), default="2afc")
    serve.add_argument("--pairs", action="store_true", help="2afc: show one image of each set side by side")
    serve.add_argument("--trials", type=int, default=40, help="2afc: trials per participant (default %(default)s)")
    serve.add_argument("--distortions", nargs="+", help="categorise: one distortion and its levels (low-pass:0,3,7)")
    serve.add_argument("--fixation-ms", type=int, default=500)
    serve.add_argument("--presentation-ms", type=int, default=200)
    serve.add_argument("--attention-every", type=int, default=10,
                       help="an attention check after every N trials (0: none)")
    serve.add_argument("--size", type=int, help="crop images to this size")
    serve.add_argument("--model", help="a classifier whose answers to the same stimuli stand beside the humans'")
    serve.add_argument("--label-map", help="how --model's outputs map to the classes (imagenet16)")
    serve.add_argument("--batch-size", type=int, default=128,
                       help="--model: images per forward pass (default %(default)s)")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free one)")
    serve.add_argument("--out", required=True, type=Path, help="run folder: stimuli, trial tables, summary.csv")


def run(args: argparse.Namespace) -> None:
    from ..humans import prepare, serve

    if args.trials < 2:
        raise FreqprobeError("--trials must be at least 2")
    prepare(args.out, args.sets, task=args.task, pairs=args.pairs, trials=args.trials, distortions=args.distortions,
            fixation_ms=args.fixation_ms, presentation_ms=args.presentation_ms, attention_every=args.attention_every,
            size=args.size, seed=args.seed, model=args.model, label_map=args.label_map,
            batch_size=args.batch_size)  # fmt: skip
    server = serve(args.out, port=args.port)
    # Ctrl-C and a polite kill stop it even where SIGINT came in ignored (a server started in the background)
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.default_int_handler)
    print(f"serving {server.url} (127.0.0.1 only); trials go to {args.out}; Ctrl-C stops", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("stopped; every response so far is in the trial tables", flush=True)
    finally:
        server.server_close()
