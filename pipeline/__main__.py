from pipeline import signals

signals.hold()  # before the CLI's imports (most of a second): a stop meanwhile is the command's to handle

from pipeline.cli import main  # noqa: E402

raise SystemExit(main())
