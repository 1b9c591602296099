"""The command line's arguments: every command, its options and their ranges."""

from __future__ import annotations

import argparse

from ofa_manager import __version__
from ofa_manager.cli.common import MAX_TIMEOUT


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="models folder (default: $OFA_MANAGER_DIR, the setting, or the user data folder)",
    )
    common.add_argument(
        "--catalog",
        metavar="FILE",
        action="append",
        default=argparse.SUPPRESS,
        help="use this catalog instead of the built-in and imported ones (repeatable)",
    )
    common.add_argument(
        "--store",
        metavar="DIR",
        action="append",
        default=argparse.SUPPRESS,
        help="a read-only shared store whose checkpoints count as present (repeatable; added to the "
        "Settings list for this run)",
    )
    parser = argparse.ArgumentParser(
        prog="ofa-manager",
        parents=[common],
        description="Get and keep the OFA backbones and π-Tuning PETL checkpoints. "
        "With no command, the window opens.",
    )
    parser.add_argument("--version", action="version", version=f"ofa-manager {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", parents=[common], help="list the checkpoints and their state")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("download", parents=[common], help="download checkpoints (resumes partial files)")
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--all", action="store_true", help="every checkpoint in the catalog")
    p.add_argument("--jobs", type=_int_range(1, 8), help="files in parallel (default 2)")
    p.add_argument("--connections", type=_int_range(1, 16), help="connections per file (default 4, max 16)")
    p.add_argument("--limit-rate", metavar="RATE", help="total bandwidth limit, e.g. 5M or 500k (bytes/s)")
    p.add_argument("--retries", type=_int_range(0, 100), help="retries per connection (default 5)")
    p.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help=f"stall timeout in seconds, more than 0 and at most {MAX_TIMEOUT:g} (default 30)",
    )
    p.add_argument(
        "--here",
        action="store_true",
        help="also download checkpoints a shared store has, into the models folder",
    )
    backbone = p.add_mutually_exclusive_group()
    backbone.add_argument(
        "--with-backbone",
        action="store_true",
        help="also download the backbone a PETL checkpoint needs when it is not here (asked otherwise)",
    )
    backbone.add_argument(
        "--no-backbone",
        action="store_true",
        help="download only the checkpoints named, without their backbone",
    )
    p.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="download even when the disk looks too small, or again where a download that failed its "
        "check is kept as NAME.rejected (asked otherwise)",
    )
    p.add_argument(
        "--unpack",
        action="store_true",
        help="then unpack the .zip archives among them into a folder beside each (see `unpack`)",
    )

    p = sub.add_parser("verify", parents=[common], help="re-hash local files; exit 1 on a mismatch")
    p.add_argument("ids", nargs="*", metavar="ID")

    p = sub.add_parser("rm", parents=[common], help="delete local copies (permanently)")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--partial", action="store_true", help="delete only unfinished partial files")
    p.add_argument(
        "--rejected",
        action="store_true",
        help="delete only the kept copies of downloads that failed their check (NAME.rejected)",
    )
    p.add_argument(
        "--trash",
        action="store_true",
        help="move the files to the desktop trash instead (they take their space until it is emptied)",
    )
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--force",
        action="store_true",
        help="also delete a file at the checkpoint's path that ofa-manager did not download (named first)",
    )
    p.add_argument(
        "--keep-unpacked",
        action="store_true",
        help="delete an archive but keep the folder it was unpacked into (deleted with it otherwise)",
    )

    p = sub.add_parser(
        "move",
        parents=[common],
        help="move the models folder (every checkpoint and partial file) to DIR and use DIR from now on",
        description="Move the checkpoints, partial files and their records to DIR (across volumes they are "
        "copied, holes of partial files kept) and save DIR as the models folder. A file whose name is "
        "taken in DIR stays where it is (exit code 1). Ctrl+C stops between two pieces: the file being "
        "copied stays whole where it was.",
    )
    p.add_argument("target", metavar="DIR")

    p = sub.add_parser(
        "accept",
        parents=[common],
        help="keep a download that failed its check (NAME.rejected) anyway, marked as differing from the "
        "catalog (never verified), without downloading it again",
    )
    p.add_argument("ids", nargs="+", metavar="ID")

    p = sub.add_parser("du", parents=[common], help="disk usage of the models folder")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "check", parents=[common], help="HEAD each URL and mirror: status, size, ETag; no body fetched"
    )
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "inspect",
        parents=[common],
        help="what is in a checkpoint (keys, tensors, model, safety), read without torch or running it",
        description="Describe a PyTorch checkpoint from its zip directory and its pickle, without torch and "
        "without executing anything in it: format, keys, sections and their tensor bytes, parameters, "
        "dtypes, fairseq/OFA metadata, PETL families, the OFA size inferred from shapes, and whether "
        "torch.load(weights_only=False) would import or call anything (with the lines that load a safe "
        "file with weights_only=True).",
        epilog="exit codes: 0 tensors and plain data only; 1 it names globals that loading would import or "
        "call, or --deep found damage; 2 usage error, or not a readable PyTorch checkpoint (truncated, "
        "ambiguous, an HTML page…)",
    )
    p.add_argument("target", metavar="ID|PATH", help="a catalog id (its local file) or any file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--deep", action="store_true", help="also read every byte: each member's CRC, each storage's size"
    )

    p = sub.add_parser("login", parents=[common], help="store a token for a host in the system keyring")
    p.add_argument("host")
    p = sub.add_parser("logout", parents=[common], help="remove a host's token from the system keyring")
    p.add_argument("host")

    p = sub.add_parser(
        "mirror",
        parents=[common],
        help="fetch URLs that start with a prefix from a lab cache or mirror instead",
        description="Mirror rules, shared with Settings → Mirrors: a URL that starts with PREFIX is fetched "
        "from URL + the rest of it. The first matching rule wins. With no action, the rules are listed.",
        epilog='example (a lab cache, see README "For a lab"): ofa-manager mirror add '
        "https://ofa-beijing.oss-cn-beijing.aliyuncs.com/ http://cache.lab.example:8080/",
    )
    actions = p.add_subparsers(dest="mirror_action", metavar="ACTION")
    q = actions.add_parser("add", help="add a rule, or change the one for PREFIX")
    q.add_argument("prefix", metavar="PREFIX")
    q.add_argument("url", metavar="URL")
    q = actions.add_parser("list", help="the rules, in the order they are tried")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q = actions.add_parser("remove", help="remove the rule for PREFIX")
    q.add_argument("prefix", metavar="PREFIX")

    p = sub.add_parser(
        "link",
        parents=[common],
        help="put checkpoints where a project expects them (links into a folder, or a scan of its scripts)",
        description="Link checkpoints into a project folder: `link ID... --into DIR` makes DIR/FILE stand "
        "for each checkpoint's file (a symbolic link by default). `link --scan PROJECT` reads the project's "
        "shell scripts for the checkpoint paths they read and reports what stands there or could; with "
        "--apply the missing checkpoints are downloaded and linked. A path that is a member of a .zip "
        "entry (e.g. checkpoints/vqgan/last.ckpt) is reported as that member; --apply downloads and unpacks "
        "the archive, then links the member. A file that is not our own link is never replaced: it is named "
        "and left alone (exit code 1).",
    )
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--into", metavar="DIR", help="the folder to link into (made if missing)")
    p.add_argument("--as", dest="name", metavar="NAME", help="the link's file name (one ID only)")
    p.add_argument(
        "--mode", choices=("symlink", "hardlink", "copy"), default="symlink", help="how (default symlink)"
    )
    p.add_argument("--scan", metavar="PROJECT", help="read PROJECT's shell scripts for checkpoint paths")
    p.add_argument("--apply", action="store_true", help="with --scan: download what is missing, then link")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--yes", "-y", action="store_true", help="with --apply: download even when the disk looks too small"
    )
    backbone = p.add_mutually_exclusive_group()
    backbone.add_argument(
        "--with-backbone", action="store_true", help="with --apply: also fetch a needed backbone"
    )
    backbone.add_argument("--no-backbone", action="store_true", help="with --apply: never fetch a backbone")

    p = sub.add_parser(
        "catalog",
        parents=[common],
        help="import a checkpoint list (Markdown or HTML) as a catalog; list or remove imported ones",
        description="Imported catalogs live in the user's catalogs folder and are used, with the built-in "
        "one, whenever --catalog is not given. A link counts as a checkpoint when its file name ends in "
        ".pt, .pth, .bin, .ckpt, .safetensors, .zip, .tar, .tar.gz, .tgz, .gz, .npz, .h5, .onnx or .pkl; "
        "other links (pages, repositories, images) are left out and reported.",
    )
    actions = p.add_subparsers(dest="catalog_action", metavar="ACTION")
    q = actions.add_parser("import", help="read FILE or URL and keep it as a catalog")
    q.add_argument("source", metavar="FILE|URL")
    q.add_argument("--name", help="the catalog's name (default: from the file or URL)")
    q.add_argument("--replace", action="store_true", help="replace an imported catalog of that name")
    q.add_argument(
        "--base", metavar="URL", default="", help="resolve a saved page's relative links against URL"
    )
    q = actions.add_parser("list", help="the catalogs: name, entries, source, enabled")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q = actions.add_parser("remove", help="delete an imported catalog")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    for action, text in (("enable", "use an imported catalog again"), ("disable", "stop using one")):
        q = actions.add_parser(action, help=text)
        q.add_argument("name", metavar="NAME")

    p = sub.add_parser(
        "unpack",
        parents=[common],
        help="unpack downloaded .zip archives into a folder beside each, after checking them",
        description="Each archive (NAME.zip in the models folder) is verified again, every member checked "
        "(no path outside the folder, no absolute path, no link or special file, no name twice, a "
        "limit on size, member count and compression ratio against zip bombs, the free space), then "
        "unpacked into a temporary folder that becomes NAME/ only when complete. `verify` reads the "
        "folder again against the record kept of each member's size and CRC-32; `rm` deletes it with "
        "the archive; `link --scan` links its members where a project expects them.",
    )
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument(
        "--again", action="store_true", help="unpack anew over an earlier unpacked folder (e.g. after damage)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser(
        "lock",
        parents=[common],
        help="write a lock file: a catalog of the downloaded checkpoints pinned to size and sha256",
        description="The lock file is a catalog: `ofa-manager --catalog ofa.lock.json download --all` "
        "fetches the same files on another machine (any other bytes are refused) and `verify` with it "
        "proves a machine holds them.",
    )
    p.add_argument("ids", nargs="*", metavar="ID", help="these checkpoints (default: every downloaded one)")
    p.add_argument("-o", "--output", metavar="FILE", default="ofa.lock.json", help="default ofa.lock.json")

    sub.add_parser(
        "install-desktop",
        parents=[common],
        help="add ofa-manager to the desktop's application launcher (XDG folders)",
    )
    sub.add_parser("uninstall-desktop", parents=[common], help="remove the launcher entry and icons")
    sub.add_parser("gui", parents=[common], help="open the window (the default)")
    return parser


def _int_range(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse
