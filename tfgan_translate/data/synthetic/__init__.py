"""Built-in procedural data sets: facade label maps (A) -> rendered "photos" (B), and unpaired sets.

One module per set and one for writing them: `facades` (label maps and `render_photo`), `shapes` (the
easy unpaired set and `permute_palette`), `writer` (the data set folders, the unpaired kinds and their
true mappings). `tfgan_translate.data` exports their public functions.

Everything is generated offline from a seed, so tests, demos and benchmarks run
without downloads. The mapping is KNOWN: ``B = render_photo(A)`` is a pure
function of the label map (see `facades`), so pix2pix can learn it exactly, and
an unpaired (CycleGAN) variant has a hidden true mapping to score against.

Unpaired (CycleGAN) sets (`write_synthetic_unpaired_dataset`) write domain A
images and the true mapping of OTHER images as domain B, plus the true
translations of the test A images for scoring (`true_mapping`). Two kinds:
"facades" (T = `render_photo`, realistic, hard to learn unpaired at small
sizes) and "palette" (shapes scenes of four big flat regions, T = a fixed
permutation of their palette, `permute_palette`; a tiny CycleGAN learns it in a
few hundred CPU steps at 32 px, so tests can check that the cycle objective
finds the right mapping).

Example:

>>> from tfgan_translate.data.synthetic.facades import random_label_map, render_photo
>>> label = random_label_map(0, 64)            # (64, 64, 3) uint8, from seed 0
>>> photo = render_photo(label)                # (64, 64, 3) uint8
>>> root = write_synthetic_dataset("data/synth", n_train=200, n_test=20)  # doctest: +SKIP
>>> ds = paired_dataset(root, split="train", direction="AtoB")            # doctest: +SKIP
>>> shapes = write_synthetic_unpaired_dataset("data/shapes", size=32, kind="palette")  # doctest: +SKIP
"""
