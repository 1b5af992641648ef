"""The one error every dataset step raises."""


class DatasetError(Exception):
    """A dataset could not be found, fetched, verified or read; the message says what to do."""


OFFLINE_HINT = ("Use --dataset sprites (synthetic, no network needed), or --data-dir "
                "with a folder of your own images (one sub-folder per class).")
"""What a user without the network can do instead; every download error ends with it."""
