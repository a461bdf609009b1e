from flowmatrix.cli import main

main()
