"""The application on top of the library: the `tfgan-translate` command line.

- `cli`: flags (generated from the config and option dataclasses) -> options -> one library call per command;
- `command_options`: the subcommands' option dataclasses (the run configs live in `tfgan_translate.config`);
- `errors`: the error boundary: one line and an exit code per expected failure;
- `logs`: readable logs on a terminal and off one;
- `translate`: `translate_command`, the order of the translate command's checks.

Nothing in the library imports this package (tests/test_imports.py checks it). The rules that keep a person's
files safe (run folders and their lock, output plans, export folders) bind notebook calls too, so they live
with the library functions that write (`training.run_folder`, `output_plan`, `export.folder`).
"""
