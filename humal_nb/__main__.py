from humal_nb.cli import main

raise SystemExit(main())
