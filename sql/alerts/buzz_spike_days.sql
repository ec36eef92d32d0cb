-- buzz_spike's calendar: the days reputation_daily has for each brand.
select brand, day from reputation_daily order by brand, day
