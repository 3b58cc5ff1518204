from humal_nb.cli.commands import main

raise SystemExit(main())
