"""Mutation testing of the engine and the command line, one module at a time against the tests that cover it.

Usage (from the checkout, with the `mutation` extra installed: `pip install -e '.[test,mutation]'`):

    nice -n 19 python bench/mutation.py                  # the fast modules (units ... catalog)
    nice -n 19 python bench/mutation.py core/library.py  # named modules
    nice -n 19 python bench/mutation.py core/library.py --again  # only what its last run left alive
    python bench/mutation.py --list                      # the module -> tests table
    python bench/mutation.py --scores                    # each module's stored score, nothing run

Each module runs in its own scratch copy of the checkout (`.mutation/<module>/`, ignored by git) so the
checkout is never touched: the copy gets a `[tool.mutmut]` section naming that one module and its tests,
and `mutmut run` mutates it there with one worker. Tests that start `python -m ofa_manager` in a subprocess
see the mutants too: `tests/catalogs.py:cli_env` puts the tests' own checkout (the mutated copy under
`mutants/`) first on PYTHONPATH, and the mutant being tried travels in the environment (MUTANT_UNDER_TEST).
mutmut only learns which tests reach a function from the test process itself; so while it learns ("stats"),
the copy's sitecustomize.py writes the functions each subprocess reached to `subprocess-hits/` at its exit,
and a hook appended to the copy's tests/conftest.py adds them to the test that started it. A subprocess
killed with SIGKILL writes nothing: a function only such a process reaches still counts as "no tests",
which the score counts as not killed. The copy is of the checkout as it is on disk when the module starts:
do not plant bugs by hand in the checkout while a run is going.

Prints killed / survived / timeout / no tests / total and the score per module, and writes each module's
surviving mutants with their diffs to `.mutation/<module>.survivors.txt` and every mutant's status to
`bench/mutation-results/<module>.json` (committed: the next run, on any machine, starts from it). The score is
(killed + timeout) / mutants tried: a timeout is a mutant the tests caught by hanging (the copy's wall-clock
limit is 40 times the tests' own time, so a loaded machine rarely makes one, and `--again` tries timeouts
again). `--again` tries only the mutants the last run did not kill (coverage collected afresh, so new tests
count) and keeps the other statuses while the function each mutant lives in is unchanged (a changed function's
mutants are new and are tried; a change outside functions means a full run). `--untried` tries only what was
never tried. While a mutant is tried, its tests run fastest first (mutmut stops at the first failure). The
window's item models (gui/) run offscreen against tests that build them without the main window; a mutant that
crashes the tests' process (segfault) counts as killed. Not part of the default test run.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / ".mutation"
# Each module's mutant statuses, committed: what `--again` and `--untried` start from on any machine.
RESULTS = REPO / "bench" / "mutation-results"

# Each module and the tests that cover it, from the fastest to the slowest. Window tests are left out (they
# need a display and run for minutes); the command line's subprocess tests are in, see the docstring.

# The in-process transfer tests against the loopback server (tests/httpserver.py).
ENGINE_TESTS = [
    "tests/core/transfer/test_rules.py",
    "tests/core/transfer/test_segments.py",
    "tests/core/transfer/test_resume.py",
    "tests/core/transfer/test_sources.py",
    "tests/core/transfer/test_pacing.py",
    "tests/core/transfer/test_server_faults.py",
    "tests/core/transfer/test_finishing.py",
]
# The connections' speed floor (test_server_faults.py, 15 s together): slow, rate-limited, trickling bodies.
SPEED_FLOOR = (
    "a_slow_connection_above_the_floor_is_not_cut",
    "a_connection_slowed_by_the_bandwidth_limit_is_not_taken_for_a_stall",
    "a_body_trickling_below_the_floor_is_a_stall_and_a_new_connection_finishes_it",
    "a_trickle_that_never_ends_fails_after_the_retries_like_any_stall",
)
CRC64_ON_FOUR = (
    "tests/core/test_fingerprints.py::test_no_catalog_sha256_verified_against_the_servers_crc64[4]"
)
# Deselected from the checkpoint reader's rows (see there).
MILLION_DEEP = (
    "--deselect=tests/core/test_checkpoint_contents.py::"
    "test_a_million_deep_nesting_and_a_self_containing_list_are_read"
)
# test_foreign_files.py's quick in-process tests (not its subprocess, window and fuzz tests).
FOREIGN_FILES = [
    f"tests/core/test_foreign_files.py::test_{name}"
    for name in (
        "a_users_file_is_never_overwritten_listed_as_ours_verified_or_deleted_without_force",
        "the_very_bytes_of_the_checkpoint_are_not_adopted_without_a_hash_known_beforehand",
        "a_file_matching_the_catalogs_size_and_sha256_is_adopted_and_a_wrong_one_is_not",
        "a_file_changed_after_download_is_ours_again_only_when_it_matches_the_download_hash",
        "a_file_that_appears_while_downloading_is_not_overwritten",
        "a_link_swapped_in_after_the_check_is_still_not_opened",
        "a_link_at_any_of_our_names_is_reported_never_followed_nor_replaced",
        "a_folder_at_any_of_our_names_is_reported_by_every_command",
        "the_library_itself_deletes_a_file_that_is_not_ours_only_when_forced",
    )
]
FOREIGN_FILES_FUZZ = (
    "a_damaged_resume_record_is_discarded_by_list_du_verify_and_rm",
    "a_download_over_a_damaged_resume_record_ends_with_the_servers_file",
    "damaged_metadata_never_makes_a_users_file_ours",
    "damaged_metadata_of_our_own_download_is_discarded_never_a_crash",
)
MODULES: dict[str, list[str]] = {
    # Pure functions: each module's rules file reads every figure and message; the front ends' tests
    # that print them are not needed here.
    "core/units.py": ["tests/core/test_units_rules.py", "tests/core/test_timestamps.py"],
    "core/hosts.py": [
        "tests/core/test_hosts_rules.py",
        "tests/core/test_hosts.py",
        "tests/core/test_credentials_rules.py",  # the keyring's keys are normalised hosts
    ],
    # The rules as `mirror add / remove` and the Settings dialog store them, called directly (the command
    # line's own tests of them run it in a subprocess, test_lab_cache.py).
    "core/mirrors.py": ["tests/core/test_mirrors_rules.py", "tests/core/test_sources.py"],
    "core/states.py": ["tests/core/test_states_rules.py", "tests/core/test_states.py"],
    "core/describe.py": [
        "tests/core/test_describe_rules.py",
        "tests/core/test_describe.py",
        "tests/core/test_plan.py",  # wants_file: would Download do anything
    ],
    # Every test that writes a record reaches atomic_write_json: the row keeps to the tests that check what
    # durable.py promises (the transfer folder's, minutes per mutant, checked nothing more of it).
    "core/durable.py": [
        "tests/core/test_durable_rules.py",  # fsync order around renames, modes, failures, holes, disk bytes
        "tests/core/test_relocate.py",  # the sparse copy across volumes, same volume
        "tests/core/test_relocate_rules.py",
    ],
    "core/credentials.py": [
        "tests/core/test_credentials_rules.py",
        "tests/core/test_credentials.py",
        "tests/core/test_secret_service.py",
    ],
    # The catalog is loaded by nearly every test: its row is the tests of its own rules, not the fuzz and
    # hostile-input tests (minutes per mutant), whose refusals the rules file reads word for word.
    "core/catalog.py": ["tests/core/test_catalog_rules.py", "tests/core/test_catalog.py"],
    "core/plan.py": [
        "tests/core/test_plan.py",
        "tests/core/test_plan_rules.py",
        "tests/core/test_describe.py",
    ],
    "core/trash.py": [
        "tests/core/test_trash.py",
        "tests/core/test_trash_rules.py",
        "tests/cli/test_move_trash.py",
    ],
    "core/relocate.py": [
        "tests/core/test_relocate.py",
        "tests/core/test_relocate_rules.py",
        "tests/core/test_durable_rules.py",
        "tests/cli/test_move_trash.py",
    ],
    "core/settings.py": [
        "tests/core/test_settings_rules.py",
        "tests/core/test_settings.py",
        "tests/core/test_fuzz_inputs.py::test_any_settings_file_gives_usable_settings_and_keeps_the_file",
    ],
    "core/sharing.py": [
        "tests/core/test_sharing_rules.py",  # the lock's waits, timeouts and release; moved files' group bits
        "tests/core/test_group_folder.py",  # two real users in a setgid folder; the lock across processes
    ],
    # SpaceCheck is used by the transfer engine (room before a download, others' reservations).
    "core/space.py": [
        "tests/core/test_space_rules.py",  # records read, the folder's lock (held, waited for, given up)
        "tests/core/transfer/test_finishing.py",  # two downloads on a small disk, in one process and two
    ],
    # The lock command's tests are in test_zoo.py (test_foreign_files.py never makes a lock).
    "core/lockfile.py": ["tests/core/test_lockfile_rules.py", "tests/core/test_zoo.py"],
    "core/fingerprints.py": ["tests/core/test_fingerprints_rules.py", "tests/core/test_fingerprints.py"],
    "core/claims.py": ["tests/core/test_claims_rules.py", "tests/core/test_claims.py"],
    # The scan's words through the wild fixture (test_scan_shell.py), the command line's report of it in
    # process, and the archive members a scan finds and links.
    "core/linking.py": [
        "tests/core/test_linking_rules.py",
        "tests/core/test_linking.py",
        "tests/core/test_scan_shell.py",
        "tests/cli/test_link_rules.py",
        "tests/cli/test_link.py",
        "tests/cli/test_archives.py::test_scan_reports_members_then_apply_downloads_unpacks_and_links_them",
    ],
    "core/zoo.py": ["tests/core/test_zoo_rules.py", "tests/core/test_zoo.py"],
    "core/project_setup.py": ["tests/core/test_project_setup_rules.py", "tests/core/test_project_setup.py"],
    "core/shell_words.py": ["tests/core/test_shell_words_rules.py", "tests/core/test_scan_shell.py"],
    # Archives: the member checks (their rules alone: the unpacking's tests reach them too, but make each
    # endless-loop mutant of check_names hang for minutes), where an archive unpacks and its record, the
    # unpacking (and the command line's unpack).
    "core/archive_checks.py": ["tests/core/test_archive_checks_rules.py"],
    "core/archive_records.py": [
        "tests/core/test_archive_records_rules.py",
        "tests/core/test_archives.py",
        "tests/cli/test_archives.py",
    ],
    "core/archives.py": [
        "tests/core/test_archives_rules.py",
        "tests/core/test_archives.py",
        "tests/cli/test_archives.py",
    ],
    # Modules added after the first map (a test file each, named for what it covers).
    "core/desktop.py": ["tests/project/test_desktop_rules.py", "tests/project/test_desktop_files.py"],
    "core/elsewhere.py": ["tests/core/test_elsewhere_rules.py", "tests/cli/test_waiting_download.py"],
    "core/footprint.py": ["tests/core/test_footprint_rules.py", "tests/core/test_figures_space.py"],
    "core/moved.py": ["tests/core/test_moved_rules.py", "tests/core/test_moved_folder.py"],
    "core/resources.py": ["tests/core/test_resources_rules.py"],
    "core/names.py": ["tests/core/test_names_rules.py", "tests/core/test_file_names.py"],
    # The pipe's decoders and line reader, in process; the pipe's tests that start a download process (a
    # minute under load, for every mutant of the decoders) add nothing the decoders' tests do not check.
    "core/protocol.py": [
        "tests/core/test_protocol_rules.py",
        *(
            f"tests/gui/test_pipe.py::test_{name}"
            for name in (
                "the_window_drops_each_bad_event_line_with_its_reason",
                "the_download_process_drops_each_bad_command_line_with_its_reason",
                "a_queue_event_goes_through_the_pipe_unchanged",
                "unknown_fields_are_ignored_on_both_sides",
                "a_hello_from_any_version_decodes_so_a_mismatch_can_be_named",
                "neither_end_sends_what_the_other_would_drop",
                "the_line_reader_counts_bad_lines_and_skips_a_huge_one_to_its_end",
            )
        ),
        "tests/core/test_states.py",
    ],
    # The models folder, in its layers: each layer's rules tests first, then the models folder's tests that
    # reach it (quarantine: the rejected copy; shared_store: the stores; file_names: host folders). Of
    # test_foreign_files.py the in-process tests (FOREIGN_FILES): its four damaged-record fuzz tests (two
    # and a half minutes under load, for every mutant they reach) meet the same refusals the rules files
    # read word for word; records.py keeps them, they are its damaged inputs.
    "core/records.py": [
        "tests/core/test_records_rules.py",
        "tests/core/test_hostile_inputs.py",
        *FOREIGN_FILES,
        *(f"tests/core/test_foreign_files.py::test_{name}" for name in FOREIGN_FILES_FUZZ),
        "tests/core/test_fingerprints.py::test_a_record_with_a_malformed_server_fingerprint_is_discarded",
    ],
    "core/file_status.py": ["tests/core/test_file_status_rules.py", "tests/core/test_quarantine.py"],
    "core/safe_files.py": [
        "tests/core/test_safe_files_rules.py",
        "tests/core/test_hostile_inputs.py",
        "tests/core/test_library.py",
        *FOREIGN_FILES,
    ],
    "core/library_paths.py": [
        "tests/core/test_library_paths_rules.py",
        "tests/core/test_library_rules.py",
        "tests/core/test_library.py",
        "tests/core/test_hostile_inputs.py",
        "tests/core/test_file_names.py",
        *FOREIGN_FILES,
    ],
    "core/library_states.py": [
        "tests/core/test_library_states_rules.py",
        "tests/core/test_library_rules.py",
        "tests/core/test_library.py",
        "tests/core/test_shared_store.py",
        "tests/core/test_hostile_inputs.py",
        "tests/core/test_quarantine.py",
        *FOREIGN_FILES,
    ],
    "core/library_checks.py": [
        "tests/core/test_library_checks_rules.py",
        "tests/core/test_library_rules.py",
        "tests/core/test_library.py",
        "tests/core/test_shared_store.py",
        *FOREIGN_FILES,
        "tests/core/test_fingerprints.py::test_verify_rechecks_the_recorded_server_crc",
    ],
    "core/library.py": [
        "tests/core/test_library_rules.py",
        "tests/core/test_library.py",
        "tests/core/test_quarantine.py",
        "tests/core/test_shared_store.py",
        "tests/core/test_figures_space.py",
        *FOREIGN_FILES,
    ],
    # The checkpoint reader: each module's rules tests first, then the committed fixtures read whole. The
    # million-deep file (a minute a mutant here) is left out: the rules file reads one twenty times the
    # recursion limit deep, which fails as soon as reading or describing recurses.
    "core/safe_unpickler.py": [
        "tests/core/test_safe_unpickler_rules.py",
        "tests/core/test_checkpoint_contents_rules.py",
        "tests/core/test_checkpoint_contents.py",
        MILLION_DEEP,
    ],
    "core/pickle_globals.py": [
        "tests/core/test_pickle_globals_rules.py",
        "tests/core/test_safe_unpickler_rules.py",
        "tests/core/test_checkpoint_contents.py",
    ],
    "core/checkpoint_contents.py": [
        "tests/core/test_checkpoint_contents_rules.py",
        "tests/core/test_checkpoint_contents.py",
        MILLION_DEEP,
    ],
    "core/checkpoint_results.py": [
        "tests/core/test_checkpoint_contents_rules.py",
        "tests/core/test_checkpoint_contents.py",
    ],
    "core/checkpoint_summary.py": [
        "tests/core/test_checkpoint_summary_rules.py",
        "tests/core/test_checkpoint_contents.py",
        MILLION_DEEP,
        "tests/core/test_claims_rules.py",  # the load lines and the summary of a file
    ],
    # Its rules file pins the functions one by one (the sockets shut down on a pause, plain and https, too);
    # the transfer tests use the tokens, redirects, statuses, web pages and compressed bodies for real. The
    # pacing, segments and other transfer tests add a minute to every surviving mutant and read none of it.
    # The speed floor's tests (slow, trickling and rate-limited bodies, 15 s) are connections.py's.
    "core/http.py": [
        "tests/core/test_http_rules.py",
        "tests/core/transfer/test_sources.py",
        "tests/core/transfer/test_server_faults.py",
        *(f"--deselect=tests/core/transfer/test_server_faults.py::test_{name}" for name in SPEED_FLOOR),
    ],
    # One file's download, in its parts. The in-process transfer tests (ENGINE_TESTS) reach every part;
    # the command line's kill -9 / Ctrl-C / two-process tests (test_resume_after_kill.py, 25 s a run, in
    # subprocesses) only for the orchestration and its record on disk.
    # Its rules file pins each function; the pacing and sources tests use the limit and the rewrite for real.
    "core/transfer_options.py": [
        "tests/core/test_transfer_options_rules.py",
        "tests/core/transfer/test_pacing.py",
        "tests/core/transfer/test_sources.py",
    ],
    # Its rules file reads the waits, the record, the partial file replaced or unreadable, the reports and
    # their figures; the resume, server-fault and sources tests use them for real. The pacing, segments and
    # finishing tests (the disk-space ones take half a minute) add time to each surviving mutant, no more.
    # The connections' speed floor left to their row, save the stalls that use up the retries; the
    # fingerprints' crc64 case on one connection, not four (9 s each).
    "core/transfer_state.py": [
        "tests/core/test_transfer_state_rules.py",
        "tests/core/transfer/test_resume.py",
        "tests/core/transfer/test_server_faults.py",
        "tests/core/transfer/test_sources.py",
        "tests/core/test_fingerprints.py",  # the server's fingerprints gathered from the first answer
        *(f"--deselect=tests/core/transfer/test_server_faults.py::test_{name}" for name in SPEED_FLOOR[:2]),
        f"--deselect={CRC64_ON_FOUR}",
    ],
    "core/finishing.py": [
        "tests/core/test_finishing_rules.py",
        "tests/core/test_durable_rules.py",  # the fsync before and after the rename
        "tests/core/test_quarantine.py",  # a rejected copy kept beside the file
        "tests/core/test_fingerprints.py",  # the server's CRC-64 / MD5 checked at the end
        "tests/core/transfer/test_finishing.py",
        "tests/core/transfer/test_resume.py",  # a complete partial file finished offline
        "tests/core/transfer/test_sources.py",  # no password in what is written
    ],
    "core/segments.py": ["tests/core/test_segments_rules.py", *ENGINE_TESTS],
    # Every transfer runs the connections: the files that make them misbehave (drops, stalls, trickles, short
    # or shifted ranges, a full disk, the partial file removed, pause) are enough; the sources, the space
    # checks and the fingerprints belong to transfer.py, finishing.py and space.py.
    "core/connections.py": [
        "tests/core/test_connections_rules.py",
        "tests/core/transfer/test_rules.py",
        "tests/core/transfer/test_segments.py",
        "tests/core/transfer/test_server_faults.py",
        "tests/core/transfer/test_resume.py",
        "tests/core/transfer/test_pacing.py",
        "tests/core/transfer/test_finishing.py::"
        "test_a_partial_file_deleted_under_a_transfer_stops_it_and_leaves_nothing",
    ],
    # The in-process tests reach every line of the orchestration; the kill -9 / Ctrl-C / two-process tests
    # (test_resume_after_kill.py, subprocesses, half a minute a run) check nothing of it they do not. Left
    # out too, a third of the row's time that every surviving mutant paid: the connections' speed floor
    # (slow, trickling, rate-limited bodies: connections.py's row), a download in another process holding
    # its space (space.py's), and the crc64 check on four connections (the one-connection case stays).
    "core/transfer.py": [
        "tests/core/test_transfer_rules.py",
        *ENGINE_TESTS,
        "tests/core/test_fingerprints.py",
        *(f"--deselect=tests/core/transfer/test_server_faults.py::test_{name}" for name in SPEED_FLOOR),
        "--deselect=tests/core/transfer/test_finishing.py::test_a_download_in_another_process_holds_its_space_too",
        f"--deselect={CRC64_ON_FOUR}",
    ],
    # The pipe's tests run the queue in a download process, behind the pipe: what they see of it, the core
    # tests see directly and sooner. In process, over the loopback server, the rules file first (its
    # scripted tests are the quickest). The hang guards are the files' own timeout markers (60 s; 10 s
    # for the quick wait test, where a mutant of wait() that ignores its limit hangs first), which a
    # TEST_TIMEOUTS entry could not override.
    "core/queue.py": [
        "tests/core/test_queue_rules.py",
        "tests/core/test_queue.py",
        "tests/core/test_queue_bulk.py",
    ],
    # The command line, one module a family of commands, each with the test files that run its commands
    # (in-process first: `cli.main([...])` is far faster under mutation than `python -m ofa_manager`).
    "cli/__init__.py": [
        "tests/cli/test_main_rules.py",  # the window's start and what it is given
        "tests/cli/test_common_rules.py",
        "tests/cli/test_parser_rules.py",
        "tests/cli/test_access_rules.py",  # no keyring: one line, exit 2
        "tests/cli/test_commands.py",
        # a moved folder: exit 3 and its explanation
        "tests/core/test_moved_folder.py::"
        "test_the_move_leaves_a_marker_and_every_command_on_the_old_folder_says_where_they_went",
    ],
    "cli/common.py": [
        "tests/cli/test_confirm.py",
        "tests/cli/test_common_rules.py",
        "tests/cli/test_listing_rules.py",
        "tests/cli/test_verify_rules.py",
        "tests/cli/test_remove_rules.py",
        "tests/cli/test_download_rules.py",
        "tests/cli/test_commands.py",
        "tests/core/test_claims.py",  # a file's contents against each entry's claim, in list and verify
        "tests/core/test_moved_folder.py",  # the folder moved away: exit 3 and how to go on
    ],
    # Every argument's names, default and help words are in tests/data/cli-arguments.txt.
    "cli/parser.py": ["tests/cli/test_parser_rules.py"],
    "cli/listing.py": [
        "tests/cli/test_listing_rules.py",
        "tests/cli/test_commands.py",
        "tests/core/test_claims.py",  # contents and mismatch in list --json
    ],
    "cli/verify.py": [
        "tests/cli/test_verify_rules.py",
        "tests/cli/test_verify_not_downloaded_rules.py",
        # damaged unpacked folders counted in the summary
        "tests/cli/test_unpack_rules.py::test_verify_names_each_damaged_member_and_what_is_not_from_the_archive",
        "tests/cli/test_commands.py",
        "tests/cli/test_rules.py",
        "tests/core/test_claims.py",  # verify's warnings for each entry sharing a file
    ],
    "cli/remove.py": [
        "tests/cli/test_remove_rules.py",
        "tests/cli/test_rules.py",
        "tests/cli/test_commands.py",
        "tests/cli/test_archives.py",
    ],
    # In process only: collecting which test reaches which function through `python -m ofa_manager`
    # subprocesses took a whole budget before any mutant was tried.
    "cli/move.py": [
        "tests/cli/test_move_rules.py",
        "tests/cli/test_move_terminal_rules.py",  # Ctrl+C said above the bar; the files already moved
        *(
            f"tests/cli/test_move_trash.py::test_{name}"
            for name in (
                "move_within_a_volume_renames_and_saves_the_new_folder",
                "move_across_volumes_copies_keeping_the_holes_of_a_partial_file",
                "move_leaves_a_checkpoint_whose_name_is_taken",
                "ctrl_c_stops_a_move_between_pieces_and_leaves_the_source_whole",
                "ctrl_c_on_a_terminal_is_said_and_a_second_one_stops_at_once",
                "move_refuses_while_another_process_downloads_into_the_folder",
                "move_to_a_file_is_a_usage_error",
                "a_move_that_fails_part_way_says_so_and_keeps_the_setting",
                "a_copy_says_its_first_tenth",
            )
        ),
        "tests/core/test_moved_folder.py",
    ],
    "cli/download.py": [
        "tests/cli/test_download_progress.py",
        "tests/cli/test_download_rules.py",
        "tests/cli/test_rules.py::test_jobs_3_downloads_three_files_at_once",
        "tests/cli/test_rules.py::test_jobs_1_downloads_one_file_at_a_time",
        *(
            f"tests/cli/test_commands.py::test_{name}"
            for name in (
                "list_json_shows_partial_bytes",
                "download_exit_0_and_plain_progress_lines_when_not_a_terminal",
                "download_all",
                "one_failure_exits_1_and_the_others_still_complete",
                "web_page_answer_is_reported",
                "unknown_id_exits_2_naming_it_with_close_ids",
                "usage_errors_exit_2",
                "connections_1_uses_one_stream",
                "limit_rate_option_caps_the_total_speed",
                "rewrite_rules_from_the_settings_are_used",
                "download_again_replaces_a_corrupt_file",
            )
        ),
        # the warning when a file is not what its entry claims
        "tests/core/test_claims.py::test_download_warns_when_the_file_is_not_what_is_claimed",
        "tests/cli/test_archives.py::test_download_unpack_verify_damage_again_and_rm",  # download --unpack
        "tests/cli/test_archives.py::test_download_unpack_of_an_archive_already_here_fetches_nothing",
    ],
    "cli/inspection.py": [
        "tests/cli/test_inspect_rules.py",
        "tests/core/test_claims.py",
        "tests/core/test_checkpoint_contents.py",
        MILLION_DEEP,
    ],
    "cli/links.py": ["tests/cli/test_link_rules.py", "tests/cli/test_link.py", "tests/cli/test_archives.py"],
    "cli/archives.py": ["tests/cli/test_unpack_rules.py", "tests/cli/test_archives.py"],
    # test_foreign_files.py runs list, du, verify, rm and download, never `catalog` or `lock`.
    "cli/catalog.py": ["tests/cli/test_catalog_rules.py", "tests/core/test_zoo.py"],
    "cli/access.py": [
        "tests/cli/test_access_rules.py",
        "tests/core/test_credentials.py",
        "tests/core/test_lab_cache.py",
    ],
    "cli/desktop.py": ["tests/cli/test_common_rules.py", "tests/project/test_desktop_files.py"],
    # The window's item models and their panels, offscreen: each built over the real store and a models
    # folder in a temporary folder, without the main window (mutmut's forked children each make their own
    # QApplication). The window's own tests reach them too, but take minutes per mutant.
    "gui/tree.py": ["tests/gui/test_tree_model_rules.py", "tests/gui/test_item_model_words.py"],
    "gui/downloads.py": [
        "tests/gui/test_downloads_model_rules.py",
        "tests/gui/test_downloads_panel_rules.py",
        "tests/gui/test_item_model_words.py",
    ],
    "gui/disk.py": ["tests/gui/test_disk_model_rules.py", "tests/gui/test_item_model_words.py"],
    "gui/scan_report.py": ["tests/gui/test_scan_report_rules.py", "tests/gui/test_item_model_words.py"],
}
# Tests that cannot pass on mutated code whatever the mutant: they look at what importing a module loads, and
# every mutated module imports mutmut's trampoline.
NOT_WITH_MUTANTS = [
    "tests/core/test_states.py::test_the_states_module_loads_nothing_beyond_the_standard_library",
]
# A test's own time limit (pytest-timeout) for modules whose mutants can hang a download for good (the
# hasher waiting for a prefix that never grows, a wait with no end): such a test fails at this limit rather
# than at the project's 300 s, which cost five minutes a mutant. Far above any of these rows' tests (the
# slowest takes about 10 s on a loaded machine).
TEST_TIMEOUTS = {
    "core/segments.py": 90,
    "core/connections.py": 45,
    "core/finishing.py": 90,
    # These three rows' slowest tests take 9 s on a loaded machine: a mutant that hangs costs 40 s, not 90.
    "core/http.py": 40,
    "core/transfer_state.py": 40,
    "core/transfer.py": 40,
    "cli/__init__.py": 90,  # a mutant that opens the window for every command waits in its event loop
    # A mutant of the progress reporter or of the wait loop can leave `download` waiting for good.
    "cli/download.py": 60,
    # A mutant of the script reader's loops can read one line for ever; the command line's link tests
    # have no limit of their own (the core ones have 60 s).
    "core/linking.py": 60,
    # A mutant of the walk's visited set loops for good over a list that holds itself (the row's tests take
    # under a second each).
    "core/checkpoint_summary.py": 20,
    # A mutant of the key measure's memo hashes a key of shared tuples for ever (the row's slowest test takes
    # under two seconds).
    "core/safe_unpickler.py": 30,
    # A mutant of the lock-holder lookup can leave a second `download` waiting for a holder it never names
    # (the row's slowest test takes 18 s); without a limit, each such mutant held the run for 20 minutes.
    "core/elsewhere.py": 60,
    # A mutant of the shell reader's loops reads one word for ever (the row's tests take 3 s in all).
    "core/shell_words.py": 10,
}
# Rows whose tests can hang inside Qt's event loop: the limit's signal only reaches a slot there, whose
# exception Qt prints and forgets, so the limit ends the test process from a thread instead.
TIMEOUT_BY_THREAD = {"cli/__init__.py"}
FAST = [
    "core/units.py",
    "core/hosts.py",
    "core/mirrors.py",
    "core/states.py",
    "core/describe.py",
    "core/durable.py",
    "core/credentials.py",
    "core/catalog.py",
]
SITECUSTOMIZE = """# For the tests' subprocesses: Ctrl-C as usual, mutmut's settings from the scratch copy.
import os
import signal
import sys
from pathlib import Path

# mutmut ignores SIGINT and a process inherits that: give the command line its Ctrl-C back (tests send it).
signal.signal(signal.SIGINT, signal.default_int_handler)
_here = os.getcwd()
try:
    os.chdir(Path(__file__).resolve().parent.parent)
    from mutmut.configuration import config

    config()
finally:
    os.chdir(_here)

# A process started under the plain C locale decodes its environment as ASCII: the name of a method's mutant
# (it holds a "ǁ") would then match no mutant and the original code would run. The name is read as UTF-8.
_raw = os.environb.get(b"MUTANT_UNDER_TEST") if hasattr(os, "environb") else None
if _raw is not None and not _raw.isascii() and sys.getfilesystemencoding().lower() not in ("utf-8", "utf8"):
    from mutmut.mutation import trampoline

    del os.environ["MUTANT_UNDER_TEST"]
    trampoline.set_mutant_under_test(None)
    trampoline._mutant_under_test = _raw.decode("utf-8", "surrogateescape")

# While mutmut learns which test reaches which function ("stats"), this process's hits are written out at
# exit; the test process's conftest adds them to the test that started it (see CONFTEST_HITS).
if os.environ.get("MUTANT_UNDER_TEST") == "stats" and os.environ.get("OFA_MUTATION_HITS"):
    import atexit
    import json

    def _save_hits():
        from mutmut.state import state

        hits = sorted(state()._stats)
        if hits:
            folder = Path(os.environ["OFA_MUTATION_HITS"])
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{os.getpid()}.json").write_text(json.dumps(hits), encoding="utf-8")

    atexit.register(_save_hits)
"""
# Appended to the scratch copy's tests/conftest.py: before mutmut files the functions a test reached, the
# functions its subprocesses reached (written by sitecustomize above) are added to them.
CONFTEST_HITS = """

# -- added by bench/mutation.py in its scratch copy: functions reached in a test's subprocesses count too
if os.environ.get("OFA_MUTATION_HITS"):

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(item, nextitem):
        import json as _json

        from mutmut.state import state as _state

        folder = Path(os.environ["OFA_MUTATION_HITS"])
        for hits in folder.glob("*.json") if folder.is_dir() else ():
            try:
                _state()._stats.update(_json.loads(hits.read_text(encoding="utf-8")))
            finally:
                hits.unlink(missing_ok=True)


# -- added by bench/mutation.py: while a mutant is tried, its tests run fastest first (mutmut stops at the
# first failure, and a set of node ids has no order of its own), by the durations mutmut recorded.
if os.environ.get("MUTANT_UNDER_TEST", "") not in ("", "stats", "mutant_generation"):

    def pytest_collection_modifyitems(session, config, items):
        import json as _json

        try:
            durations = _json.loads(Path("mutmut-stats.json").read_text(encoding="utf-8"))["duration_by_test"]
        except (OSError, ValueError, KeyError, TypeError):
            return
        items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))
"""
# Statuses --again does not try again: no new test brings such a mutant back while the source is the same.
DETECTED_FOR_GOOD = ("killed", "segfault")
# Run in a module's scratch copy: the diff of each mutant named on stdin, written to the file named.
SHOW_ALL = """
import sys
from mutmut.__main__ import find_mutant, get_diff_for_mutant
from mutmut.configuration import config

config()
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for name in filter(None, sys.stdin.read().splitlines()):
        try:
            diff = get_diff_for_mutant(name, path=find_mutant(name).path)
        except Exception as exc:  # one mutant's diff not found is no reason to lose the others
            diff = f"(no diff: {exc!r})"
        out.write(f"# {name}\\n{diff.rstrip()}\\n\\n")
"""
COUNTED = ("killed", "survived", "timeout", "no tests", "suspicious", "not checked")


def scratch_copy(module: str) -> Path:
    """A fresh copy of the checkout's tracked files (as they are on disk) for one module's run."""
    work = WORK / module.replace("/", "_").removesuffix(".py")
    if work.exists():
        shutil.rmtree(work)
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, work / name)
    tests = MODULES[module]
    options = [arg for test in NOT_WITH_MUTANTS for arg in ("--deselect", test)]
    if module in TEST_TIMEOUTS:
        options.append(f"--timeout={TEST_TIMEOUTS[module]}")
    if module in TIMEOUT_BY_THREAD:
        options.append("--timeout-method=thread")
    quoted = ", ".join(f'"{t}"' for t in tests)
    with open(work / "pyproject.toml", "a", encoding="utf-8") as config:
        config.write(
            "\n[tool.mutmut]\n"
            'source_paths = ["ofa_manager"]\n'
            f'only_mutate = ["ofa_manager/{module}"]\n'
            # resources/ sits beside the package in a checkout; core/resources.py finds it there.
            'also_copy = ["resources", "packaging", "sitecustomize.py"]\n'
            f"pytest_add_cli_args_test_selection = [{quoted}]\n"
            f"pytest_add_cli_args = {json.dumps(['-p', 'no:cacheprovider', '-q', *options])}\n"
            "use_git_change_detection = false\n"
            # Eight runs may share two cores: a wall-clock limit of 15x a test's time would call a slow run
            # a hang. A real hang is still stopped, later.
            "timeout_multiplier = 40.0\n"
        )
    with open(work / "tests" / "conftest.py", "a", encoding="utf-8") as conftest:
        conftest.write(CONFTEST_HITS)
    # A subprocess started by a test (PYTHONPATH=mutants/) imports mutmut through the mutated code, and
    # mutmut reads its settings from the working folder's pyproject.toml: load them from this copy first.
    (work / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    return work


def source_digest(module: str, root: Path | None = None) -> str:
    return hashlib.sha256(((root or REPO) / "ofa_manager" / module).read_bytes()).hexdigest()


def results_path(module: str) -> Path:
    return RESULTS / f"{module.replace('/', '_').removesuffix('.py')}.json"


def module_prefix(module: str) -> str:
    """`core/queue.py` -> `ofa_manager.core.queue.`, how mutmut's mutant names begin."""
    return "ofa_manager." + module.removesuffix(".py").removesuffix("/__init__").replace("/", ".") + "."


def pack_statuses(module: str, statuses: dict[str, str]) -> dict[str, dict[str, list[int]]]:
    """`{name: status}` -> `{function: {status: [mutant numbers]}}`: what a module's results file holds, small
    enough to commit (a module's status list is the bench's memory between machines)."""
    packed: dict[str, dict[str, list[int]]] = {}
    prefix = module_prefix(module)
    for name, status in statuses.items():
        function, number = name.removeprefix(prefix).rsplit("__mutmut_", 1)
        packed.setdefault(function, {}).setdefault(status, []).append(int(number))
    return {
        function: {status: sorted(numbers) for status, numbers in sorted(by_status.items())}
        for function, by_status in sorted(packed.items())
    }


def unpack_statuses(module: str, packed: dict[str, dict[str, list[int]]]) -> dict[str, str]:
    prefix = module_prefix(module)
    return {
        f"{prefix}{function}__mutmut_{number}": status
        for function, by_status in packed.items()
        for status, numbers in by_status.items()
        for number in numbers
    }


def save_results(module: str, statuses: dict[str, str], measured: Path | None = None) -> None:
    """Write the module's statuses with the digests that say, next time, which of them still hold: one JSON
    object per line of functions, so a diff of a new run shows the functions whose statuses changed."""
    # The digests are of the source the statuses were measured on (the run's scratch copy, `measured`): the
    # checkout may have changed while the run went on, and its changed functions must count as changed.
    root = measured or REPO
    rest, functions = function_digests((root / "ofa_manager" / module).read_text(encoding="utf-8"))
    head = {"module": module, "source_sha256": source_digest(module, root), "rest_sha256": rest}
    packed = pack_statuses(module, statuses)
    lines = [json.dumps(head)[:-1] + ","]
    lines.append(' "functions": {')
    lines.append(
        ",\n".join(f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in sorted(functions.items()))
    )
    lines.append(' },\n "statuses": {')
    lines.append(",\n".join(f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in packed.items()))
    lines.append(" }\n}\n")
    path = results_path(module)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


def load_results(module: str) -> dict | None:
    try:
        saved = json.loads(results_path(module).read_text(encoding="utf-8"))
        saved["statuses"] = unpack_statuses(module, saved["statuses"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return saved


BAR = "\N{LATIN LETTER LATERAL CLICK}"  # mutmut's separator in a method's mutant names


def function_digests(source: str) -> tuple[str, dict[str, str]]:
    """The digest of the module's code outside its functions, and of each function and method, keyed as
    mutmut names them (`x_name`, `xǁClassǁname`; a function nested in another is part of it)."""
    lines = source.splitlines(keepends=True)
    spans: dict[str, list[tuple[int, int]]] = {}

    def add(key: str, node: ast.AST) -> None:
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        spans.setdefault(key, []).append((start, node.end_lineno))

    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in ast.parse(source).body:
        if isinstance(node, functions):
            add(f"x_{node.name}", node)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, functions):
                    add(f"x{BAR}{node.name}{BAR}{item.name}", item)
    inside = {line for ranges in spans.values() for start, end in ranges for line in range(start, end + 1)}

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    # Blank lines outside functions are not code: adding or removing a function moves some of them.
    rest = digest(
        "".join(line for number, line in enumerate(lines, 1) if number not in inside and line.strip())
    )
    return rest, {
        key: digest("\0".join("".join(lines[start - 1 : end]) for start, end in ranges))
        for key, ranges in spans.items()
    }


def function_of(mutant: str) -> str:
    """`ofa_manager.core.queue.xǁDownloadQueueǁ_pause__mutmut_20` -> `xǁDownloadQueueǁ_pause`."""
    return mutant.rsplit("__mutmut_", 1)[0].rsplit(".", 1)[-1]


def previous_results(module: str) -> tuple[dict[str, str], list[str]] | None:
    """The statuses of the module's last run that still hold, and the functions changed since (whose mutants
    are new). All of them while the source is unchanged. Where only some functions changed, the mutants of
    the others keep their status, the rule mutmut itself follows between runs; a change outside functions
    (a constant, an import, a class attribute) or an older results file without digests: None."""
    saved = load_results(module)
    if saved is None:
        return None
    statuses = saved.get("statuses")
    if not isinstance(statuses, dict):
        return None
    if saved.get("source_sha256") == source_digest(module):
        return statuses, []
    rest, digests = function_digests((REPO / "ofa_manager" / module).read_text(encoding="utf-8"))
    old = saved.get("functions")
    if not isinstance(old, dict) or saved.get("rest_sha256") != rest:
        return None
    changed = sorted(key for key, value in digests.items() if old.get(key) != value)
    kept = {
        name: status
        for name, status in statuses.items()
        if function_of(name) in digests and function_of(name) not in changed
    }
    return kept, changed


def run_module(
    module: str,
    budget: float,
    mutmut: str,
    again: bool = False,
    untried: bool = False,
    retry: tuple[str, ...] = (),
) -> dict:
    previous = previous_results(module) if again or untried else None
    if (again or untried) and previous is None:
        print(f"{module}: no earlier run of this source to repeat; running all its mutants", flush=True)
    before, changed = previous if previous is not None else (None, [])
    if changed:
        print(f"{module}: changed since its last run: {', '.join(changed)} (mutants new)", flush=True)
    # Only what the last run did not kill (or did not reach) is tried again: a new test cannot bring a killed
    # mutant back to life while its function is unchanged. Timeouts are tried again too: on a loaded machine
    # a slow run can pass for a hang. --untried leaves survivors and timeouts as they are.
    settled = DETECTED_FOR_GOOD + (("survived", "timeout", "suspicious") if untried else ())
    rerun = sorted(
        name
        for name, status in (before or {}).items()
        if status not in settled or (status not in DETECTED_FOR_GOOD and wanted_again(name, retry))
    )
    prefix = module_prefix(module)
    patterns = [f"{prefix}{key}__mutmut_*" for key in changed]
    work = scratch_copy(module)
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        PYTHONDONTWRITEBYTECODE="1",
        OFA_MUTATION_HITS=str(work / "subprocess-hits"),
    )
    env.pop("PYTHONPATH", None)
    log = open(WORK / f"{work.name}.log", "w", encoding="utf-8")
    started = time.monotonic()
    if before is not None and not rerun and not changed:
        log.close()
        return summarise(module, work, before, 0.0, True, 0, mutmut, env)
    proc = subprocess.Popen(
        [mutmut, "run", "--max-children", "1", *rerun, *patterns],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        proc.wait(timeout=budget)
        finished = True
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        finished = False
    seconds = time.monotonic() - started
    log.close()
    listing = subprocess.run(
        [mutmut, "results", "--all", "true"], cwd=work, env=env, capture_output=True, text=True
    ).stdout
    statuses = dict(re.findall(r"^\s+(\S+): (.+)$", listing, re.MULTILINE))
    if before is not None:
        statuses = merge_statuses(before, statuses, set(rerun), changed)
    return summarise(module, work, statuses, seconds, finished, proc.returncode, mutmut, env)


def wanted_again(mutant: str, patterns: tuple[str, ...]) -> bool:
    """True when ``--retry`` names this mutant: a pattern over its short name
    (``xǁTransferǁ_fetch__mutmut_47``, ``*_fetch__mutmut_4?``; ``|`` stands for mutmut's separator)."""
    short = mutant.rsplit(".", 1)[-1]
    return any(fnmatch.fnmatchcase(short, p.replace("|", "\N{LATIN LETTER LATERAL CLICK}")) for p in patterns)


def merge_statuses(before: dict[str, str], now: dict[str, str], rerun: set[str], changed) -> dict[str, str]:
    """The statuses after a run that tried ``rerun`` and every mutant of the ``changed`` functions.

    mutmut's fresh copy knows only the mutants it tried now: the rest keep their earlier status, and so does
    a mutant to try again that a budget stopped before it was reached (mutmut says "not checked"). The
    mutants of a changed function are all new (their numbers may mean other changes now).
    """
    fresh = {name: status for name, status in now.items() if function_of(name) in changed}
    kept = {}
    for name, old in before.items():
        status = now.get(name, old) if name in rerun else old
        kept[name] = old if status == "not checked" else status
    return {**kept, **fresh}


def summarise(
    module: str, work: Path, statuses: dict[str, str], seconds: float, finished: bool, returncode, mutmut, env
) -> dict:
    save_results(module, statuses, measured=work)
    counts = Counter(statuses.values())
    survivors = [name for name, status in statuses.items() if status in ("survived", "no tests")]
    # One process writes every survivor's diff (`mutmut show` per mutant takes seconds each).
    subprocess.run(
        [str(Path(mutmut).with_name("python")), "-c", SHOW_ALL, str(WORK / f"{work.name}.survivors.txt")],
        input="\n".join(survivors),
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    return {
        "module": module,
        "seconds": seconds,
        "finished": finished and returncode == 0,
        "returncode": returncode,
        "counts": counts,
        "total": len(statuses),
    }


def score_line(result: dict) -> str:
    c = result["counts"]
    tried = result["total"] - c["not checked"]
    # A timeout is a mutant the tests caught by hanging: it counts as detected, as in the usual mutation
    # score (the limit is generous, and --again tries timeouts again). A segfault is a mutant that crashed
    # the tests' process (a window module's mutant painting on no device, or handing Qt a None): the
    # clean run passed, so the crash is the mutant's, and it counts as killed.
    killed = c["killed"] + c["segfault"]
    score = 100 * (killed + c["timeout"]) / tried if tried else 0.0
    state = "" if result["finished"] else f"  (stopped: exit {result['returncode']} or budget)"
    return (
        f"{result['module']:<28} {killed:>6} {c['survived']:>8} {c['timeout']:>7} {c['no tests']:>8} "
        f"{c['not checked']:>7} {result['total']:>6} {score:>6.1f}% {result['seconds'] / 60:>6.1f} min{state}"
    )


def print_scores(modules: list[str]) -> int:
    """The score table from the stored statuses; a module whose source changed since is marked."""
    print(f"{'module':<28} {'detected':>8} {'tried':>6} {'total':>6} {'score':>7}  source")
    for module in modules:
        saved = load_results(module)
        if saved is None:
            print(f"{module:<28} {'':>8} {'':>6} {'':>6} {'':>7}  never measured")
            continue
        counts = Counter(saved["statuses"].values())
        tried = len(saved["statuses"]) - counts["not checked"]
        detected = counts["killed"] + counts["segfault"] + counts["timeout"]
        score = f"{100 * detected / tried:6.1f}%" if tried else "      –"
        current = saved.get("source_sha256") == source_digest(module)
        print(
            f"{module:<28} {detected:>8} {tried:>6} {len(saved['statuses']):>6} {score}  "
            f"{'as measured' if current else 'changed since'}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="modules under ofa_manager/ (default: the fast ones)")
    parser.add_argument("--budget", type=float, default=20, help="minutes per module (default 20)")
    parser.add_argument("--list", action="store_true", help="print the module -> tests table and stop")
    parser.add_argument(
        "--scores",
        action="store_true",
        help="print each module's score from its stored statuses (bench/mutation-results/), run nothing",
    )
    parser.add_argument(
        "--again",
        action="store_true",
        help="try again only what the module's last run did not kill (its source unchanged); fresh coverage",
    )
    parser.add_argument(
        "--untried",
        action="store_true",
        help="like --again, but only the mutants never tried (survivors and timeouts keep their status)",
    )
    parser.add_argument(
        "--retry",
        nargs="+",
        default=(),
        metavar="PATTERN",
        help="with --untried: try again the survivors these patterns name too (mutmut's short names, "
        "e.g. 'x|Transfer|_fetch__mutmut_47'), after a test aimed at them was added",
    )
    args = parser.parse_args(argv)
    if args.list:
        for module, tests in MODULES.items():
            print(f"{module:<28} {' '.join(tests)}")
        return 0
    if args.scores:
        return print_scores(args.modules or list(MODULES))
    modules = args.modules or FAST
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        parser.error(f"no test mapping for {', '.join(unknown)}; known: {', '.join(MODULES)}")
    mutmut = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or shutil.which("mutmut")
    if mutmut is None:
        parser.error("mutmut is not installed: pip install -e '.[test,mutation]'")
    WORK.mkdir(exist_ok=True)
    print(
        f"{'module':<28} {'killed':>6} {'survived':>8} {'timeout':>7} {'no tests':>8} {'unrun':>7} "
        f"{'total':>6} {'score':>7} {'time':>10}"
    )
    for module in modules:
        result = run_module(module, args.budget * 60, mutmut, args.again, args.untried, tuple(args.retry))
        print(score_line(result), flush=True)
    print(f"survivors (with diffs): {WORK}/<module>.survivors.txt; mutmut's log: {WORK}/<module>.log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
