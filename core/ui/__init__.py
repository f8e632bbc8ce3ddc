"""The live web dashboard's page and assets, served by core at /ui/."""
