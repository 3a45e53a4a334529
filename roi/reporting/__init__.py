"""Reports: the monthly HTML finance report and the Excel executive pack, from the warehouse.

`roi.reporting.render.render_reports` writes them from the sections a report chooses (the
registry in `roi.reporting.sections`, one module per section); `roi.reporting.columns` declares
a table's columns once for both renderers.
"""
