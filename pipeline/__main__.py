from pipeline.signals import run

raise SystemExit(run())
