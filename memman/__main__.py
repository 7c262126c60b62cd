from memman.entry import main

main()
