"""``python -m caffe2lite`` is the ``caffe2lite`` command."""

from caffe2lite.cli.main import main

raise SystemExit(main())
