from smoke.run import main

raise SystemExit(main())
