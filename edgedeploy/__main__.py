from edgedeploy.cli.app import main

if (
    __name__ == "__main__"
):  # a spawned bench worker imports this module too: it must not run the CLI
    main()
