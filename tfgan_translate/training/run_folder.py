"""Owning a run folder: what counts as a run, refusing or overwriting one, the lock, a killed run's temporaries.

`train` refuses a folder that holds a run (config.json, or checkpoints/ holding a checkpoint of ours) unless
`resume=True` continues it or `overwrite=True` replaces it (`delete_previous_run` deletes only the files a
run writes), and a non-empty folder that holds no run unless `overwrite=True`. `claim_run_folder` checks the
folder, creates it, locks it (`io.folder_lock`) and removes the temporaries a killed run left.

Only what is provably ours is discounted when deciding whether a folder is empty (`_is_bookkeeping`): our
temporaries (`io.our_temporary`: names with a valid check, not links), a `.lock` that is a regular file
holding just a PID (`io.lock_problem`), and what file browsers leave (.DS_Store, Thumbs.db, desktop.ini). A
user's look-alike (`.photos.old-2023`) or a `.lock` of another program's is the user's: the folder is not
empty. A `.lock` that is not ours (a symbolic link, a folder, a file holding anything but a PID) is refused
whatever the flags, before anything is created or removed: the lock would have to write it.
"""

import contextlib
import itertools
import logging
import os
import re
from pathlib import Path

from tfgan_translate.config import CONFIG_FILENAME
from tfgan_translate.io import LOCK_NAME, folder_lock, listing, lock_problem, our_temporary
from tfgan_translate.training.checkpoints import checkpoint_candidates, remove_stale_checkpoint_files

log = logging.getLogger("tfgan_translate")


class RunFolderError(FileExistsError):
    """`train` refused `run_dir`: it holds a run (or other files), and neither `resume` nor `overwrite` was given."""


# What a run writes, and so all that overwrite=True deletes: (sub-folder, file-name pattern); "logs" recursively.
_RUN_FILES = (
    ("", rf"{re.escape(CONFIG_FILENAME)}|metrics\.json|imported\.json"),
    ("checkpoints", r"(epoch_\d+|step_\d+|latest)\.keras"),
    ("samples", r"epoch_\d+\.png|index\.html"),
    ("logs", r"events\.out\.tfevents\..+"),
)


_DESKTOP_FILES = (".DS_Store", "Thumbs.db", "desktop.ini")  # what file browsers put in an "empty" folder


def _is_bookkeeping(entry: Path) -> bool:
    """Our lock file, our temporaries (`remove_stale_checkpoint_files` handles them), file browsers' files."""
    if entry.name == LOCK_NAME:
        return lock_problem(entry) is None
    return entry.name in _DESKTOP_FILES or our_temporary(entry) is not None


def _check_run_folder(run_dir: Path, *, resume: bool, overwrite: bool) -> str:
    """The folder's kind, if `train` may write there with these flags; else RunFolderError saying which to pass.

    The kind: "new" (missing or empty), "run" (a config.json, or checkpoints/ holding a checkpoint of ours: a
    folder of other checkpoints is not a run) or "other" (other files). A `run_dir/.lock` that is not ours
    (`io.lock_problem`) is refused whatever the flags: the lock would write it.
    """
    if not run_dir.exists():
        return "new"
    if not run_dir.is_dir():
        raise NotADirectoryError(f"Invalid value for `run_dir` (--out). Received: {run_dir}, an existing file. "
                                 "Expected a folder: a new or empty one, or a run folder to resume.")
    names = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in run_dir.iterdir()
                   if not _is_bookkeeping(entry))
    problem = lock_problem(run_dir / LOCK_NAME)
    if problem is not None:
        raise RunFolderError(
            f"Invalid value for `run_dir` (--out). Received: {run_dir}, whose {LOCK_NAME} is {problem}, not a lock "
            f"file of tfgan-translate. Expected no {LOCK_NAME} there, or the one a tfgan-translate run leaves (a "
            f"regular file holding its process ID): move or remove {run_dir / LOCK_NAME}, or choose another folder.")
    is_run = (run_dir / CONFIG_FILENAME).exists() or bool(checkpoint_candidates(run_dir))  # a checkpoints/ of ours
    if is_run and not (resume or overwrite):
        raise RunFolderError(
            f"Invalid value for `run_dir` (--out). Received: {run_dir}, which already holds a run (config.json or "
            "checkpoints/*.keras). Expected a new or empty folder; or pass resume=True (--resume) to continue that "
            "run, or overwrite=True (--overwrite) to replace it (its checkpoints, logs, samples and config are "
            "deleted; other files stay).")
    if not is_run and names and not overwrite:
        purpose = "holds no run to resume" if resume else "is not empty and holds no run"
        raise RunFolderError(
            f"Invalid value for `run_dir` (--out). Received: {run_dir}, which {purpose} (it holds {listing(names)}). "
            "Expected a new or empty folder, or a run folder; or pass overwrite=True (--overwrite) to train a new run "
            "there beside those files (none is deleted; files named like the run's, e.g. config.json, are replaced).")
    return "run" if is_run else ("other" if names else "new")


@contextlib.contextmanager
def claim_run_folder(run_dir: Path, *, resume: bool, overwrite: bool):
    """Context manager: `run_dir` checked, locked and cleaned of a killed run's temporaries; yields its kind.

    Checked before anything is created (a refused folder is left as it was) and again holding the lock. A
    folder this call created is removed again if the block fails before writing anything into it.
    """
    _check_run_folder(run_dir, resume=resume, overwrite=overwrite)
    created = not run_dir.is_dir()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)  # made meanwhile by another process: the lock decides
    except OSError as error:
        raise type(error)(f"Invalid value for `run_dir` (--out). Received: {run_dir}, which cannot be created "
                          f"({error.strerror or error}). Expected a folder this user can create.") from None
    try:
        with folder_lock(run_dir, what="Run folder"):
            kind = _check_run_folder(run_dir, resume=resume, overwrite=overwrite)  # another process may have run
            removed = remove_stale_checkpoint_files(run_dir)
            if removed:
                log.info("Removed %d temporary file(s) that a killed run left in %s: %s.", len(removed), run_dir,
                         ", ".join(str(p.relative_to(run_dir)) for p in removed[:5]) + (" ..." if removed[5:] else ""))
            yield kind
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                run_dir.rmdir()  # only if still empty: nothing was written
        raise


def delete_previous_run(run_dir: Path) -> int:
    """Deletes the old run's files for overwrite=True, and the folders that leaves empty; returns how many files.

    Those are the files a run writes (`_RUN_FILES`; in logs/ at any depth). Files of other names stay, as do the
    folders holding them; symbolic links are not followed or removed.
    """
    removed = 0
    for sub, pattern in _RUN_FILES:
        for root, _, names in itertools.islice(os.walk(run_dir / sub), None if sub == "logs" else 1):
            for path in (Path(root) / name for name in names if re.fullmatch(pattern, name)):
                if not path.is_symlink():
                    path.unlink(missing_ok=True)
                    removed += 1
    for sub in ("logs", "samples", "checkpoints"):
        for root, _, _ in sorted(os.walk(run_dir / sub), key=lambda entry: -len(Path(entry[0]).parts)):
            with contextlib.suppress(OSError):
                Path(root).rmdir()  # only the empty ones
    log.warning("Overwriting the run in %s: deleted its %d file(s) (config.json, checkpoints, logs, samples); "
                "other files kept.", run_dir, removed)
    return removed


__all__ = ["RunFolderError", "claim_run_folder", "delete_previous_run"]
