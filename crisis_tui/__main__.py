from crisis_tui.cli import main

main()
