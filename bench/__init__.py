"""The benchmark: the gateway against a raw driver baseline, in one run (see bench/README.md)."""


def numbers(text: str) -> list[int]:
    """An option's comma-separated integers (`--page-sizes 10,100,1000`), as argparse's `type`."""
    return [int(number) for number in text.split(",")]
