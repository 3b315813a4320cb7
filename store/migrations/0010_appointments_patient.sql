-- Contact records (PATIENTS) update every appointment of one patient in a
-- facility: find them without a scan.
CREATE INDEX appointments_patient ON appointments (facility, patient_id);
