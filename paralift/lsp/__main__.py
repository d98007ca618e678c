from paralift.lsp import main

main()
