from roi.cli import main

# Guarded: worker processes (the forecast's) import the main module again.
if __name__ == "__main__":
    main()
