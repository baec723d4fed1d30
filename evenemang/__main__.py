from evenemang.cli import main

main()
