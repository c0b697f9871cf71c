-- The printers this workstation sends its slips to, by their names in the printing system
-- (CUPS): the counter's receipts and tickets, and the ticket kiosk's tickets, so that a
-- citizen's receipt never comes out of the kiosk's printer at the entrance. Empty: the
-- system's default printer.
ALTER TABLE workstation ADD COLUMN counter_printer TEXT NOT NULL DEFAULT '';
ALTER TABLE workstation ADD COLUMN kiosk_printer TEXT NOT NULL DEFAULT '';
