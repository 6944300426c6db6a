from dagster_project.run import main

raise SystemExit(main())
