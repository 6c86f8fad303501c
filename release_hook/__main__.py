from release_hook.cli import main

raise SystemExit(main())
