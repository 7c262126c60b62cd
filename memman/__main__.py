from memman.cli import main

main()
