"""commsite.images: smaller copies of the images a site shows.

- wanted.py: which raster files under static/ the site shows, and what each
  needs (pure);
- variants.py: an image's responsive WebP copies, square icon and banner,
  made with Pillow from its bytes (pure);
- info.py: the image table's row of a made image and its files' names;
- entry.py: a made image as the build cache's blob, checked on the way out.

The build (build/images.py) keeps them by content hash in its cache and makes
the missing ones across processes; render and federation read the result
through commsite.image_table.
"""
