"""Reports: the monthly HTML finance report and the Excel executive pack, from the warehouse.

`roi.reporting.render.render_reports` writes them; `figures` reads the numbers both show.
"""
