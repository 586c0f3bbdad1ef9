"""`hello` or `gdtutor ARGS...`, ended as soon as its first frame is painted (for counting
what the start-up does: benchmarks/instructions.py)."""
import os
import sys

from textual.app import App


def end_after_first_frame(app: App) -> None:
    app.call_after_refresh(lambda: os._exit(0))


if sys.argv[1] == "hello":
    sys.path.insert(0, os.path.dirname(__file__))
    from hello_app import Hello

    class EndingHello(Hello):
        def on_mount(self) -> None:
            end_after_first_frame(self)

    EndingHello().run()
else:
    from gdtutor.cli import main
    from gdtutor.tui.app import GdtutorApp

    first_frame = GdtutorApp._after_first_frame

    def after_first_frame(app: GdtutorApp) -> None:
        first_frame(app)
        os._exit(0)

    GdtutorApp._after_first_frame = after_first_frame
    sys.argv = ["gdtutor", *sys.argv[2:]]
    sys.exit(main())
