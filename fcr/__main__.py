from fcr.cli import main

main()
